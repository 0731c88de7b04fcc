"""The page's CSS and head script: one place for how the app looks and behaves in the browser.

Colours come in pairs, light and dark (Gradio puts ``.dark`` on ``<body>`` when the
browser prefers a dark scheme). Each pair was chosen for a WCAG contrast ratio of at
least 4.5:1 (AA for normal text) against its own background; tests/test_app.py measures
the rendered colours in Chromium in both schemes.
"""

from .locale import FORCE_LOCALE_JS

NARROW_MAX_PX = 768  # at or below this width the sources panel sits below the chat: [n] opens a drawer

CSS = """
/* Secondary text. Gradio's --body-text-color-subdued is 2.4:1 on white in the Soft theme. */
:root { --rag-subdued: #4b5563; }
.dark { --rag-subdued: #a1a1aa; }
#answer-hint { color: var(--rag-subdued); font-size: 0.9em; min-height: 1.2em; }
#answer-hint p { margin: 0; }
.refusal { background: #fff5f5; border-left: 4px solid #dc2626; color: #7f1d1d;
           padding: 8px 12px; border-radius: 6px; }
.dark .refusal { background: #3f1d1d; border-left-color: #f87171; color: #fee2e2; }
.refusal-tag { display: inline-block; font-size: 0.78em; background: #b91c1c; color: #ffffff;
               border-radius: 4px; padding: 0 6px; margin-right: 6px; }
.dark .refusal-tag { background: #fecaca; color: #7f1d1d; }
.answer-notes { color: var(--rag-subdued); font-size: 0.82em; margin-top: 6px; }
.unsupported { color: #b45309; cursor: help; }
.dark .unsupported { color: #fbbf24; }
a.cite { text-decoration: none; font-weight: 600; font-size: 0.8em; vertical-align: super;
         color: #1d4ed8; padding: 0 1px; cursor: pointer; }
.dark a.cite { color: #93c5fd; }
a.cite:hover, a.cite:focus-visible { text-decoration: underline; }
#sources { max-height: 680px; overflow-y: auto; }
.src-empty, .src-none { color: var(--rag-subdued); font-size: 0.9em; padding: 6px 0; }
.src-group { margin-bottom: 10px; }
.src-group > summary { cursor: pointer; font-weight: 600; padding: 4px 0; }
.src-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
            padding: 10px 12px; margin: 8px 0; background: var(--background-fill-primary); }
.src-card.flash { animation: src-flash 1.8s ease-out; }
@keyframes src-flash { 0% { background: #fef08a; } 100% { background: var(--background-fill-primary); } }
.dark .src-card.flash { animation-name: src-flash-dark; }
@keyframes src-flash-dark { 0% { background: #713f12; } 100% { background: var(--background-fill-primary); } }
.src-title { font-weight: 600; }
.src-n { color: #1d4ed8; margin-right: 4px; }
.dark .src-n { color: #93c5fd; }
.src-meta { color: var(--rag-subdued); font-size: 0.82em; margin: 2px 0 6px; }
.src-text { line-height: 1.75; font-size: 0.92em; max-height: 240px; overflow-y: auto; }
mark, .src-text mark, .chunk-text mark { background: #fde68a; color: #1f2937; padding: 0 1px; border-radius: 2px; }
.dark mark, .dark .src-text mark, .dark .chunk-text mark { background: #854d0e; color: #fefce8; }
.kb-msg { padding: 2px 0; }
.kb-ok { color: #15803d; }
.kb-error { color: #b91c1c; font-weight: 600; }
.kb-warn { color: #b45309; }
.kb-info { color: var(--rag-subdued); }
.dark .kb-ok { color: #4ade80; }
.dark .kb-error { color: #fca5a5; }
.dark .kb-warn { color: #fbbf24; }
.kb-notice { border-left: 4px solid #b45309; background: #fffbeb; color: #78350f;
             padding: 8px 12px; border-radius: 6px; margin: 4px 0; }
.dark .kb-notice { border-left-color: #fbbf24; background: #3b2a0a; color: #fef3c7; }
.kb-notice.kb-danger { border-left-color: #dc2626; background: #fff5f5; color: #7f1d1d; }
.dark .kb-notice.kb-danger { border-left-color: #f87171; background: #3f1d1d; color: #fee2e2; }
#example-questions { gap: 6px; flex-wrap: wrap; }
#example-questions button { flex: 0 1 auto; min-width: 0; white-space: normal; text-align: left; }
.chunk-list { max-height: 520px; overflow-y: auto; }
.chunk { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin: 6px 0; }
.chunk-meta { color: var(--rag-subdued); font-size: 0.82em; margin-bottom: 4px; }
.chunk-text { line-height: 1.7; font-size: 0.92em; white-space: pre-wrap; }
.chunk-overlap { color: var(--rag-subdued); }
#cite-drawer { position: fixed; left: 0; right: 0; bottom: 0; z-index: 1000; max-height: 65vh;
               overflow-y: auto; background: var(--background-fill-primary);
               color: var(--body-text-color); border-top: 2px solid var(--border-color-accent, #6366f1);
               box-shadow: 0 -6px 24px rgba(0, 0, 0, 0.25); padding: 10px 14px 18px; }
#cite-drawer[hidden] { display: none; }
#cite-drawer .drawer-head { display: flex; justify-content: space-between; align-items: center;
                            font-weight: 600; margin-bottom: 4px; }
#cite-drawer .drawer-close { font-size: 0.95em; padding: 4px 12px; border-radius: 6px; cursor: pointer;
                             border: 1px solid var(--border-color-primary);
                             background: var(--background-fill-secondary); color: var(--body-text-color); }
#cite-drawer .src-text { max-height: none; }
"""

# [n] links: on a wide screen jump to the source card in the sources panel (open its
# answer group, scroll inside the panel, flash); on a narrow screen, where the panel is
# far below the chat, show the card in a drawer over the page instead. Escape or the
# close button shuts the drawer and returns focus to the mark.
CITE_JS = """
(function () {
  var NARROW = '(max-width: %dpx)';
  var lastMark = null;
  function drawer() {
    var d = document.getElementById('cite-drawer');
    if (d) return d;
    d = document.createElement('div');
    d.id = 'cite-drawer';
    d.setAttribute('role', 'dialog');
    d.setAttribute('aria-label', '引用来源');
    d.hidden = true;
    d.innerHTML = '<div class="drawer-head"><span class="drawer-title">来源</span>' +
      '<button type="button" class="drawer-close" aria-label="关闭来源">关闭</button></div>' +
      '<div class="drawer-body"></div>';
    (document.querySelector('.gradio-container') || document.body).appendChild(d);
    d.querySelector('.drawer-close').addEventListener('click', closeDrawer);
    return d;
  }
  function closeDrawer() {
    var d = document.getElementById('cite-drawer');
    if (!d || d.hidden) return;
    d.hidden = true;
    if (lastMark) lastMark.focus();
  }
  function openDrawer(card) {
    var d = drawer();
    var copy = card.cloneNode(true);
    copy.removeAttribute('id');
    copy.classList.remove('flash');
    var body = d.querySelector('.drawer-body');
    body.innerHTML = '';
    body.appendChild(copy);
    d.hidden = false;
    d.scrollTop = 0;
    d.querySelector('.drawer-close').focus({preventScroll: true});
  }
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') closeDrawer(); });
  document.addEventListener('click', function (e) {
    var a = e.target && e.target.closest ? e.target.closest('a.cite') : null;
    if (!a) {
      var d = document.getElementById('cite-drawer');
      if (d && !d.hidden && !d.contains(e.target)) closeDrawer();
      return;
    }
    var id = (a.getAttribute('href') || '').replace(/^#/, '');
    var el = id ? document.getElementById(id) : null;
    e.preventDefault();
    e.stopPropagation();
    if (!el) return;
    lastMark = a;
    if (window.matchMedia(NARROW).matches) { openDrawer(el); return; }
    var group = el.closest('details');
    if (group) group.open = true;
    // Scroll inside the sources panel; move the page only if the panel is out of view.
    var panel = document.getElementById('sources');
    if (panel && panel.contains(el)) {
      var r = panel.getBoundingClientRect();
      if (r.top < 0 || r.top > window.innerHeight - 100) panel.scrollIntoView({block: 'start'});
      panel.scrollTop += el.getBoundingClientRect().top - panel.getBoundingClientRect().top - 8;
    } else {
      el.scrollIntoView({block: 'center'});
    }
    el.classList.remove('flash'); void el.offsetWidth; el.classList.add('flash');
  }, true);
})();
""" % NARROW_MAX_PX

HEAD = f"<script>{FORCE_LOCALE_JS}</script>\n<script>{CITE_JS}</script>\n"
