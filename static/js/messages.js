// htmx swaps nothing from an error answer (a rate limit, a busy session, a refused or failed request), so its
// message goes where the page's own messages go. The server changed nothing in every one of these cases.
export const NO_ANSWER = "The server did not answer: check the connection and try again. Nothing was changed.";

export function showError(text) {
  const area = document.getElementById("message");
  if (!area) return;
  const p = document.createElement("p");
  p.className = "message error";
  p.setAttribute("role", "alert");
  p.textContent = text;
  const dismiss = document.createElement("button");
  dismiss.type = "button";
  dismiss.className = "dismiss";
  dismiss.setAttribute("aria-label", "Dismiss this message");
  p.appendChild(dismiss);
  area.replaceChildren(p);
}

// `xhr` is an XMLHttpRequest or anything with its `status` and `responseText`.
export function errorText(xhr) {
  let detail = null;
  try { detail = JSON.parse(xhr.responseText).detail; } catch (e) { /* not JSON: say it plainly below */ }
  if (Array.isArray(detail) && detail.length && detail[0].msg) {  // a form field the server refused
    const loc = detail[0].loc || [];
    detail = (loc.length ? loc[loc.length - 1] + ": " : "") + detail[0].msg;
  }
  if (typeof detail === "string" && detail) return detail + (/nothing was changed/i.test(detail) ? "" : " Nothing was changed.");
  if (xhr.status >= 500) return "The server could not do that (error " + xhr.status + "). Nothing was changed; try again.";
  return "The server refused that request (error " + xhr.status + "). Nothing was changed.";
}

export function listen() {
  document.addEventListener("click", (event) => {
    const dismiss = event.target.closest && event.target.closest("#message .dismiss");
    if (dismiss) dismiss.closest(".message").remove();
  });
  document.addEventListener("htmx:responseError", (event) => {
    showError(errorText(event.detail.xhr));
    const path = event.detail.requestConfig && event.detail.requestConfig.path;
    const form = document.getElementById("controls-form");
    if (path === "/ui/config" && form) form.reset();  // refused: the controls go back to the settings in use
  });
  document.addEventListener("htmx:sendError", () => showError(NO_ANSWER));
}
