"""The first pages in a real browser: signed in, the list leads to a timeline."""

import pytest

from pacts.interchange import import_document
from tests.documents import gsomia_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_analyst_opens_gsomia_from_the_list(live_server, page, sign_in, make_user):
    import_document(gsomia_document())
    sign_in(page, make_user("analyst"))
    page.goto(f"{live_server.url}/agreements/")
    page.get_by_role("link", name="Korea–Japan GSOMIA").click()
    page.wait_for_url("**/agreements/kr-jp-gsomia/")
    assert page.locator("h1").inner_text().startswith("Korea–Japan GSOMIA")
    assert page.locator("ol.lanes > li").count() == page.locator("ol.lanes > li time[datetime]").count() == 6
    assert page.evaluate("typeof htmx") == "object"
    assert page.console_errors == []


def test_an_anonymous_visitor_is_sent_to_sign_in(live_server, page):
    page.goto(f"{live_server.url}/agreements/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    assert "Please enter a correct username and password" in page.content()
