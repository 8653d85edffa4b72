"""Pages that report what went wrong in them: console errors, uncaught exceptions, CSP violations.

Console messages and page errors come through Playwright's events; Content-Security-Policy
violations through a `securitypolicyviolation` listener installed before any page script
runs, which reports to Python through a binding, so navigations lose nothing.
"""

from pathlib import Path

from django.conf import settings
from django.test import Client

# axe-core from npm (package.json); injected as a script, so a page checked with it needs bypass_csp.
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"

CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__reportCsp(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${where}`);
});
"""


def open_page(browser, *, viewport=None, **context_options):
    """A new context and page at 1280 × 900 (unless told otherwise) that records what went wrong."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, **context_options)
    context.csp_violations = []
    context.expose_binding("__reportCsp", lambda source, text: context.csp_violations.append(text))
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.console_errors = []
    page.page_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    return page


def sign_in(page, live_server, user):
    """Give the page a session of `user`, made by a client of its own.

    The shared `client` fixture would flush the first user's session on signing in the second.
    """
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return page


def problems(page, expected_statuses=()):
    """Console errors (less "failed to load" for the statuses the test provokes), page errors, CSP violations."""
    # The browser's "failed to load" line, and htmx's own log of an error response.
    expected = [f"status of {status} " for status in expected_statuses]
    expected += [f"Response Status Error Code {status} " for status in expected_statuses]
    console = [text for text in page.console_errors if not any(marker in text for marker in expected)]
    return {
        "console errors": console,
        "page errors": page.page_errors,
        "CSP violations": page.context.csp_violations,
    }


def assert_quiet(page, expected_statuses=()):
    found = {kind: items for kind, items in problems(page, expected_statuses).items() if items}
    assert not found, f"{page.url}: {found}"


def axe_violations(page):
    """axe-core's serious and critical violations on the page, with the nodes they concern."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [node["target"] for node in v["nodes"]]}
        for v in results["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
