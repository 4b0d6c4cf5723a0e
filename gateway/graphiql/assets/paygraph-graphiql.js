// PayGraph's GraphiQL page (gateway/graphiql_page.py serves it; React, GraphiQL and the
// explorer plugin are the pinned files in vendor/). What it adds to a plain GraphiQL:
//
// - A one-click way in: /graphql?headers=<URL-encoded JSON> (or #headers=..., which never
//   reaches the server's access log) fills the Headers tab; ?q=<query> and
//   ?variables=<JSON> fill the editors. Then they leave the address bar (a token must not
//   stay in the history or a screenshot), and the browser's localStorage keeps them.
// - The headers survive a reload. GraphiQL 3 forgets them: with shouldPersistHeaders it
//   stores the header editor's text while mounting, before the editor exists (an empty
//   string). So the page keeps the headers under a key of its own and hands them back.
// - The schema follows the credential: when the Authorization or X-Api-Token header
//   changes (pasted, typed or restored), GraphiQL gets a new fetcher, which makes it
//   introspect again with the new headers: the docs and the explorer fill in without a
//   "Re-fetch schema" click.
(function () {
  "use strict";

  var STORED_HEADERS = "paygraph:graphiql:headers";
  var OPENERS = ["headers", "q", "variables"];
  var CREDENTIAL_HEADERS = ["authorization", "x-api-token"];
  var WELCOME = [
    "# PayGraph's GraphiQL.",
    "#",
    "# Queries need a credential in the Headers tab below, e.g.",
    '#   {"Authorization": "Bearer <a JWT>"}',
    "# (`paygraph token` prints one) or a reseller manager's",
    '#   {"X-Api-Token": "<token>"}',
    "# The docs and the explorer follow the credential; GraphiQL keeps it in",
    "# this browser's storage. Run a query with Ctrl-Enter.",
    "",
    "{",
    "  viewer {",
    "    credential",
    "    permissions",
    "  }",
    "}",
    "",
  ].join("\n");

  // The page's URL parameters, from the query string and the fragment (the fragment's
  // win: it is the form that stays in the browser).
  function pageParameters() {
    var found = new URLSearchParams(window.location.search);
    new URLSearchParams(window.location.hash.slice(1)).forEach(function (value, name) {
      found.set(name, value);
    });
    return found;
  }

  // The address without the parameters that opened the page.
  function forgetOpenersInAddress() {
    var url = new URL(window.location.href);
    var fragment = new URLSearchParams(url.hash.slice(1));
    OPENERS.forEach(function (name) {
      url.searchParams.delete(name);
      fragment.delete(name);
    });
    url.hash = fragment.toString();
    window.history.replaceState(null, "", url.toString());
  }

  // The credential named by a Headers text, as a string to compare; null while the
  // text is not (yet) a JSON object, e.g. halfway through typing it.
  function credentialOf(headersText) {
    var headers;
    try {
      headers = JSON.parse(headersText || "{}");
    } catch (error) {
      return null;
    }
    if (headers === null || typeof headers !== "object" || Array.isArray(headers)) {
      return null;
    }
    var credential = {};
    Object.keys(headers).forEach(function (name) {
      if (CREDENTIAL_HEADERS.indexOf(name.toLowerCase()) >= 0) {
        credential[name.toLowerCase()] = String(headers[name]).trim();
      }
    });
    return JSON.stringify(credential, CREDENTIAL_HEADERS);
  }

  var parameters = pageParameters();
  if (parameters.get("headers") !== null) {
    window.localStorage.setItem(STORED_HEADERS, parameters.get("headers"));
  }
  forgetOpenersInAddress();
  var headers = window.localStorage.getItem(STORED_HEADERS);
  var url = window.location.origin + window.location.pathname;
  var explorer = GraphiQLPluginExplorer.explorerPlugin();

  function PayGraphGraphiQL() {
    var state = React.useState(credentialOf(headers) || "");
    var credential = state[0];
    var setCredential = state[1];
    // A new fetcher for each credential: GraphiQL introspects again whenever its
    // fetcher changes, reading the Headers tab as it is then.
    var fetcher = React.useMemo(
      function () {
        return GraphiQL.createFetcher({ url: url });
      },
      [credential],
    );
    function onEditHeaders(headersText) {
      window.localStorage.setItem(STORED_HEADERS, headersText);
      var next = credentialOf(headersText);
      if (next !== null) {
        setCredential(next);
      }
    }
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      // Passed on every render but read by GraphiQL once the editor exists: the
      // same text each time, so it never overwrites what the caller types.
      headers: headers === null ? undefined : headers,
      query: parameters.get("q") || undefined,
      variables: parameters.get("variables") || undefined,
      defaultQuery: WELCOME,
      onEditHeaders: onEditHeaders,
      shouldPersistHeaders: true,
      showPersistHeadersSettings: false, // always kept (see above)
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: "headers",
      inputValueDeprecation: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(PayGraphGraphiQL),
  );
})();
