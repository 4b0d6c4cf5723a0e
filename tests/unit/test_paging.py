"""PageRequest.checked: the page size a caller may ask for."""

from __future__ import annotations

import pytest

from domain.errors import BadUserInput, PageSizeTooLarge
from domain.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest, ParentPage


def test_the_default_page_size_is_fifty() -> None:
    assert DEFAULT_PAGE_SIZE == 50
    assert PageRequest() == PageRequest(first=50, after=None)


def test_a_request_without_first_gets_the_default_page_size() -> None:
    request = PageRequest.checked(None, None)

    assert request.first == 50
    assert request.after is None


def test_the_after_key_is_carried_through() -> None:
    assert PageRequest.checked(10, 1234) == PageRequest(first=10, after=1234)


def test_a_page_of_zero_rows_is_allowed() -> None:
    assert PageRequest.checked(0, None).first == 0


def test_the_maximum_page_size_of_two_hundred_is_accepted() -> None:
    assert MAX_PAGE_SIZE == 200
    assert PageRequest.checked(200, None).first == 200


@pytest.mark.parametrize("first", [-1, -50, -(2**31)])
def test_a_negative_page_size_is_bad_user_input(first: int) -> None:
    with pytest.raises(BadUserInput) as raised:
        PageRequest.checked(first, None)

    assert raised.value.code == "BAD_USER_INPUT"
    assert raised.value.field == "first"


@pytest.mark.parametrize("first", [201, 1000, 2**31])
def test_a_page_size_above_two_hundred_is_too_large(first: int) -> None:
    with pytest.raises(PageSizeTooLarge) as raised:
        PageRequest.checked(first, None)

    error = raised.value
    assert error.code == "PAGE_SIZE_TOO_LARGE"
    assert error.field == "first"
    assert str(first) in error.message
    assert "200" in error.message


def test_page_requests_are_hashable_loader_keys() -> None:
    # Dataloaders key on ParentPage, so equal requests must collapse to one key.
    keys = {
        ParentPage(7, PageRequest.checked(None, None)),
        ParentPage(7, PageRequest(50, None)),
        ParentPage(8, PageRequest(50, None)),
    }

    assert len(keys) == 2


def test_a_page_holds_its_items_and_both_direction_flags() -> None:
    page = Page(items=(1, 2, 3), has_next=True, has_previous=False)

    assert list(page.items) == [1, 2, 3]
    assert page.has_next
    assert not page.has_previous
