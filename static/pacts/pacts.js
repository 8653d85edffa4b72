// htmx swaps nothing for an error response (see htmx-config in base.html);
// this says so in the page's message area instead of failing silently.
document.addEventListener("htmx:responseError", function (event) {
  var status = event.detail.xhr.status;
  if (status === 400 && event.detail.requestConfig && event.detail.requestConfig.verb === "get") {
    // Invalid filters: load the address as a page, which shows each error by its field.
    window.location.assign(event.detail.xhr.responseURL);
    return;
  }
  var text = status === 403 ? "You do not have permission to do that."
    : status === 404 ? "That item no longer exists; reload the page."
    : status === 429 ? "Too many attempts; wait a moment and try again."
    : status === 503 ? "Pacts is briefly unavailable; try again in a minute. Anything you typed is still on the page."
    : "The server could not complete that request (" + status + "). Nothing was changed; try again.";
  showMessage(text, status === 503);
});
document.addEventListener("htmx:sendError", function () {
  showMessage("The server cannot be reached. Your changes are kept in the form; try again when you are back online.", true);
});
// An outage passes by itself: the next request that succeeds (an open timeline's
// poll, say) takes its message away.
document.addEventListener("htmx:afterRequest", function (event) {
  var area = document.getElementById("messages");
  if (area && area.dataset.passing && event.detail.successful) {
    area.hidden = true;
    delete area.dataset.passing;
  }
});

function showMessage(text, passing) {
  var area = document.getElementById("messages");
  if (!area) return;
  area.textContent = text;
  area.hidden = false;
  if (passing) area.dataset.passing = "true";
  else delete area.dataset.passing;
}
