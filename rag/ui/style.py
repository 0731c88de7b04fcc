"""The page's CSS and head script: one place for how the app looks."""

CSS = """
#answer-hint { color: var(--body-text-color-subdued); font-size: 0.9em; min-height: 1.2em; }
#answer-hint p { margin: 0; }
.refusal { background: #fff5f5; border-left: 4px solid #dc2626; color: #7f1d1d;
           padding: 8px 12px; border-radius: 6px; }
.answer-notes { color: var(--body-text-color-subdued); font-size: 0.82em; margin-top: 6px; }
.unsupported { color: #b45309; cursor: help; }
a.cite { text-decoration: none; font-weight: 600; font-size: 0.8em; vertical-align: super;
         color: #1d4ed8; padding: 0 1px; cursor: pointer; }
a.cite:hover { text-decoration: underline; }
#sources { max-height: 680px; overflow-y: auto; }
.src-empty, .src-none { color: var(--body-text-color-subdued); font-size: 0.9em; padding: 6px 0; }
.src-group { margin-bottom: 10px; }
.src-group > summary { cursor: pointer; font-weight: 600; padding: 4px 0; }
.src-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
            padding: 10px 12px; margin: 8px 0; background: var(--background-fill-primary); }
.src-card.flash { animation: src-flash 1.8s ease-out; }
@keyframes src-flash { 0% { background: #fef08a; } 100% { background: var(--background-fill-primary); } }
.src-title { font-weight: 600; }
.src-n { color: #1d4ed8; margin-right: 4px; }
.src-meta { color: var(--body-text-color-subdued); font-size: 0.82em; margin: 2px 0 6px; }
.src-text { line-height: 1.75; font-size: 0.92em; max-height: 240px; overflow-y: auto; }
.src-text mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.kb-msg { padding: 2px 0; }
.kb-ok { color: #15803d; }
.kb-error { color: #b91c1c; font-weight: 600; }
.kb-warn { color: #b45309; }
.kb-info { color: var(--body-text-color-subdued); }
.refusal-tag { display: inline-block; font-size: 0.78em; background: #dc2626; color: #fff;
               border-radius: 4px; padding: 0 6px; margin-right: 6px; }
"""

# [n] links jump to their source card: open its answer group, scroll, flash.
HEAD = """
<script>
document.addEventListener('click', function (e) {
  var a = e.target && e.target.closest ? e.target.closest('a.cite') : null;
  if (!a) return;
  var id = (a.getAttribute('href') || '').replace(/^#/, '');
  var el = id ? document.getElementById(id) : null;
  e.preventDefault();
  e.stopPropagation();
  if (!el) return;
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
</script>
"""
