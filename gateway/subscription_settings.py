"""The live subscriptions' settings: which broker carries payment changes between
gateway instances, and the bounds on connections, subscriptions and slow readers."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.environment import SettingsError, env_choice, env_int, env_seconds, env_text

BROKERS = ("postgres", "redis", "memory")


class SubscriptionSettingsError(SettingsError):
    """A PAYGRAPH_SUBSCRIPTION* value is unusable."""


@dataclass(frozen=True, slots=True)
class SubscriptionSettings:
    # postgres: LISTEN/NOTIFY; redis: pub/sub; memory: this process only.
    broker: str = "memory"
    max_subscriptions: int = 20  # per connection
    max_connections: int = 20  # per credential, in one process
    ping_interval: float = 15.0  # seconds between server pings; 0: none
    queue: int = 100  # changes waiting per subscription before the connection is dropped
    max_lifetime: float = 3600.0  # seconds a connection may stay open
    # The Redis channel of the `redis` broker: instances that share a Redis but not a
    # database must not share a channel.
    redis_channel: str = "paygraph:payment-changes"

    @classmethod
    def from_env(cls, database_url: str, redis_url: str | None) -> SubscriptionSettings:
        """The default broker: Redis when PAYGRAPH_REDIS_URL is set, else PostgreSQL's
        LISTEN/NOTIFY on PostgreSQL, else (SQLite) the in-process broker."""
        postgres = database_url.startswith(("postgres://", "postgresql"))
        default = "redis" if redis_url else "postgres" if postgres else "memory"
        broker = env_choice(
            "PAYGRAPH_SUBSCRIPTIONS_BROKER", default, BROKERS, error=SubscriptionSettingsError
        )
        if broker == "postgres" and not postgres:
            raise SubscriptionSettingsError(
                "PAYGRAPH_SUBSCRIPTIONS_BROKER=postgres needs a PostgreSQL DATABASE_URL"
            )
        if broker == "redis" and not redis_url:
            raise SubscriptionSettingsError(
                "PAYGRAPH_SUBSCRIPTIONS_BROKER=redis needs PAYGRAPH_REDIS_URL"
            )
        return cls(
            broker=broker,
            max_subscriptions=_int("PAYGRAPH_SUBSCRIPTIONS_PER_CONNECTION", 20, 1, 1000),
            max_connections=_int("PAYGRAPH_SUBSCRIPTION_CONNECTIONS_PER_CREDENTIAL", 20, 1, 10000),
            ping_interval=env_seconds(
                "PAYGRAPH_SUBSCRIPTION_PING_INTERVAL",
                15.0,
                minimum=0,
                maximum=3600,
                error=SubscriptionSettingsError,
            ),
            queue=_int("PAYGRAPH_SUBSCRIPTION_QUEUE", 100, 1, 100000),
            max_lifetime=env_seconds(
                "PAYGRAPH_SUBSCRIPTION_MAX_LIFETIME",
                3600.0,
                minimum=1,
                maximum=7 * 86400,
                error=SubscriptionSettingsError,
            ),
            redis_channel=env_text("PAYGRAPH_SUBSCRIPTIONS_REDIS_CHANNEL")
            or "paygraph:payment-changes",
        )


def _int(name: str, default: int, minimum: int, maximum: int) -> int:
    return env_int(name, default, minimum=minimum, maximum=maximum, error=SubscriptionSettingsError)
