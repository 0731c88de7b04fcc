"""One language on the page: Simplified Chinese, whatever the browser's locale.

Gradio translates its own controls ("Drop File Here", "Use via API", the chatbot's copy
button …) with svelte-i18n, choosing the language from ``navigator.language``: an
English-locale browser gets English controls around our Chinese page. Two things fix that:

- ``i18n()`` — a ``gr.I18n`` whose zh-CN table adds Chinese for the keys Gradio's own
  zh-CN file lacks (extracted from Gradio 6's bundled ``en`` and ``zh-CN`` tables:
  the chatbot's copy/complete buttons, the queue position, the table's filter and
  import messages, …); custom tables are merged under Gradio's, so they only fill gaps.
- ``FORCE_LOCALE_JS`` (in the page head) switches Gradio's locale to zh-CN through its
  exported ``changeLocale``, which also sets ``<html lang="zh-CN">``.
"""

from __future__ import annotations

import json

import gradio as gr

LOCALE = "zh-CN"

# Gradio 6 built-in keys missing from its zh-CN table (the rest it translates itself).
ZH_CN_MISSING = {
    "audio": {"recording_error": "无法从麦克风开始录音。"},
    "chatbot": {"complete": "完成", "copy_message": "复制消息", "copied_message": "已复制消息"},
    "chat_interface": {"new_chat": "新对话", "message_placeholder": "输入消息…",
                       "additional_inputs": "其他输入", "chatbot": "对话", "conversation": "对话"},
    "common": {"download_all": "全部下载", "runs": "运行记录", "runs_description": "查看保存在本浏览器中的运行记录",
               "back_to_app": "应用", "back_to_app_description": "返回应用", "progress": "进度",
               "record": "录制", "stop_recording": "停止录制", "screen_studio": "录屏",
               "share_gradio_tab": "[分享] Gradio 标签页", "run": "运行"},
    "dataframe": {"import_empty_file": "拖入的文件是空的。", "import_no_column_names": "拖入的文件没有列名。",
                  "import_ragged_row": "文件第 {line} 行有 {fields} 个字段，表头有 {columns} 个。",
                  "import_static_columns": "不能导入到有只读列的表格。",
                  "import_fixed_columns": "此表格需要正好 {expected} 列，文件有 {actual} 列。",
                  "import_fixed_rows": "此表格需要正好 {expected} 行，文件有 {actual} 行。",
                  "filter": "筛选", "clear_filter": "清除筛选"},
    "status": {"queue_position": "排队中：第 {position} 位，共 {size} 位"},
}


def i18n() -> gr.I18n:
    """Gradio's i18n with the Chinese it lacks (pass to ``launch(i18n=...)``)."""
    return gr.I18n(**{LOCALE: ZH_CN_MISSING})


# Accessible names Gradio writes in English without going through its i18n (Gradio 6.31
# source: tab overflow button, chatbot log, footer nav, table and upload widgets). The
# head script rewrites them as they appear, so a screen reader hears one language.
ARIA_ZH = {
    "More tabs": "更多标签页",
    "chatbot conversation": "对话记录",
    "Gradio footer navigation": "页脚导航",
    "Search": "搜索",
    "Clear": "清除",
    "Copy": "复制",
    "Copied": "已复制",
    "Download": "下载",
    "Remove": "移除",
    "Fullscreen": "全屏",
    "Exit fullscreen mode": "退出全屏",
    "Close": "关闭",
    "Loading": "加载中",
    "Loading content": "正在加载",
    "Select column": "选择列",
    "Sort column": "排序",
    "file upload drop area": "文件上传区域",
    "Click to upload or drop files": "点击上传或拖放文件",
    "Upload file": "上传文件",
    "Dismiss toast": "关闭提示",
    "Close error": "关闭错误提示",
    "Open cell menu": "打开单元格菜单",
    "File upload": "上传文件",
    "Table actions": "表格操作",
    "Copy table data": "复制表格数据",
    "Dataframe": "表格",
    "Select row": "选择行",
    "Select all rows": "选择所有行",
    "Upload a file": "上传文件",
    "Uploading": "正在上传",
    "Uploaded files": "已上传的文件",
    "Remove this file": "移除此文件",
    "Remove file": "移除文件",
    "Loading response": "正在生成回答",
    "Loading Progress": "加载进度",
    "Static column": "只读列",
    "Filtered": "已筛选",
    "Empty value": "空值",
    "Dismiss": "关闭",
    "Copy menu": "复制菜单",
    "Reset to default value": "恢复默认值",
    "Delete row": "删除行",
    "File thumbnail": "文件缩略图",
}
# Accessible names Gradio builds as an English prefix plus content: the chatbot's messages.
ARIA_PREFIX_ZH = {"user's message: ": "提问：", "bot's message: ": "回答："}

# Runs when Gradio mounts the page head, right after it set its locale from the browser:
# load Gradio's own core module (the same module instance, by its URL) and switch it.
FORCE_LOCALE_JS = """
(function () {
  var LOCALE = %s;
  document.documentElement.setAttribute('lang', LOCALE);
  function coreUrl() {
    var entries = performance.getEntriesByType('resource');
    for (var i = 0; i < entries.length; i++) {
      if (/\\/assets\\/core-[\\w-]+\\.js(\\?|$)/.test(entries[i].name)) return entries[i].name;
    }
    var s = document.querySelector('script[type=module][src*="/assets/core-"]');
    return s ? s.src : null;
  }
  function force(tries) {
    var url = coreUrl();
    if (!url) { if (tries < 100) setTimeout(function () { force(tries + 1); }, 50); return; }
    import(url).then(function (m) {
      if (m.changeLocale) m.changeLocale(LOCALE);
      document.documentElement.setAttribute('lang', LOCALE);
    });
  }
  force(0);
  var ARIA = %s;
  var PREFIX = %s;
  function fix(el) {
    ['aria-label', 'title', 'placeholder'].forEach(function (a) {
      var v = el.getAttribute && el.getAttribute(a);
      if (!v) return;
      if (Object.prototype.hasOwnProperty.call(ARIA, v)) { el.setAttribute(a, ARIA[v]); return; }
      for (var p in PREFIX) {
        // The message's own text, not the HTML source Gradio puts in the label.
        if (v.indexOf(p) === 0) {
          el.setAttribute(a, PREFIX[p] + (el.textContent || '').trim().slice(0, 200)); return;
        }
      }
    });
  }
  function fixAll(root) {
    if (root.nodeType !== 1) return;
    fix(root);
    root.querySelectorAll('[aria-label],[title],[placeholder]').forEach(fix);
  }
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      if (r.type === 'attributes') fix(r.target);
      else r.addedNodes.forEach(fixAll);
    });
  }).observe(document.documentElement, {subtree: true, childList: true, attributes: true,
                                         attributeFilter: ['aria-label', 'title', 'placeholder']});
  fixAll(document.documentElement);
})();
""" % (json.dumps(LOCALE), json.dumps(ARIA_ZH, ensure_ascii=False), json.dumps(ARIA_PREFIX_ZH, ensure_ascii=False))
