// The template preview frame. The console posts the rendered HTML here; it is shown as a
// document of its own (inside a sandbox with an opaque origin and a policy that runs no script
// but this one), so the e-mail's own styles apply and nothing in it reaches the console.
window.addEventListener('message', function (event) {
  if (event.source !== window.parent || !event.data || event.data.type !== 'fanout-preview') return;
  var doc = new DOMParser().parseFromString(String(event.data.html || ''), 'text/html');
  document.documentElement.replaceWith(document.adoptNode(doc.documentElement));
});
window.parent.postMessage({ type: 'fanout-preview-ready' }, '*');
