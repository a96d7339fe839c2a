"""Look of the web UI: a Gradio theme with system fonts only (nothing is fetched from the
internet) and the CSS of the conversation and source cards, readable in light and dark mode."""

from __future__ import annotations

import gradio as gr

SANS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]


def make_theme() -> gr.themes.Base:
    """Gradio's base theme with system font stacks instead of web fonts."""
    return gr.themes.Base(
        primary_hue="indigo",
        secondary_hue="slate",
        neutral_hue="slate",
        font=SANS,
        font_mono=MONO,
    )


CSS = """
:root {
  --sch-mark-bg: #fde68a;
  --sch-mark-fg: #1f2937;
  --sch-user-bg: #eef2ff;
  --sch-notice-bg: #fff7ed;
  --sch-notice-border: #f59e0b;
  --sch-abstain-bg: #f1f5f9;
  --sch-abstain-fg: #334155;
  --sch-error-fg: #b91c1c;
  --sch-cite: #4338ca;
  --sch-subdued: #475569;
}
.dark {
  --sch-mark-bg: #854d0e;
  --sch-mark-fg: #fef9c3;
  --sch-user-bg: #1e1b4b;
  --sch-notice-bg: #422006;
  --sch-notice-border: #f59e0b;
  --sch-abstain-bg: #1e293b;
  --sch-abstain-fg: #cbd5e1;
  --sch-error-fg: #fca5a5;
  --sch-cite: #a5b4fc;
  --sch-subdued: #a3b1c6;
}
body { color: var(--body-text-color); background: var(--body-background-fill); }
.gradio-container { max-width: 1400px !important; }
#sch-header { display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
#sch-header h1 { margin: 0; font-size: 1.6rem; }
#sch-header p { margin: 0; color: var(--sch-subdued); }
#sch-theme { max-width: 9rem; margin-left: auto; }
#sch-transcript { min-height: 240px; max-height: 62vh !important; overflow-y: auto !important; }
#sch-sources { max-height: 80vh !important; overflow-y: auto !important; }
#sch-copy, #sch-clear { white-space: nowrap; min-width: max-content; }
.sch-transcript { display: flex; flex-direction: column; gap: 0.9rem; padding: 0.25rem; }
.sch-intro h2 { margin: 0.2rem 0 0.4rem; font-size: 1.25rem; }
.sch-intro p { color: var(--sch-subdued); line-height: 1.55; }
.sch-turn { display: flex; flex-direction: column; gap: 0.5rem; }
.sch-msg { border-radius: 10px; padding: 0.6rem 0.85rem; line-height: 1.55;
  border: 1px solid var(--border-color-primary); color: var(--body-text-color); }
.sch-msg p { margin: 0.2rem 0; }
.sch-user { background: var(--sch-user-bg); align-self: flex-end; max-width: 88%; }
.sch-assistant { background: var(--background-fill-primary); }
.sch-role { font-size: 0.75rem; font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em;
  color: var(--sch-subdued); margin-bottom: 0.2rem; }
.sch-question, .sch-answer, .sch-draft { overflow-wrap: anywhere; }
.sch-cite, .sch-cite-demo { color: var(--sch-cite); font-weight: 600; text-decoration: none;
  font-size: 0.85em; vertical-align: super; padding: 0 1px; }
.sch-cite:hover { text-decoration: underline; }
.sch-status { color: var(--sch-subdued); font-style: italic;
  display: flex; align-items: center; gap: 0.5rem; }
.sch-spinner { width: 0.9rem; height: 0.9rem; border-radius: 50%;
  border: 2px solid var(--border-color-primary);
  border-top-color: var(--sch-cite); animation: sch-spin 0.8s linear infinite; display: inline-block; }
@keyframes sch-spin { to { transform: rotate(360deg); } }
.sch-draft { opacity: 0.85; margin-top: 0.3rem; }
.sch-draft-note { font-size: 0.75rem; color: var(--sch-subdued); }
.sch-notice { background: var(--sch-notice-bg); border-left: 4px solid var(--sch-notice-border);
  padding: 0.4rem 0.6rem; border-radius: 6px; margin-bottom: 0.4rem; color: var(--body-text-color); }
.sch-how { font-size: 0.8rem; opacity: 0.8; margin-bottom: 0.3rem; font-style: italic; }
.sch-abstained { background: var(--sch-abstain-bg); color: var(--sch-abstain-fg); }
.sch-badge { display: inline-block; font-size: 0.75rem; font-weight: 600; border-radius: 999px;
  padding: 0.1rem 0.6rem; margin-bottom: 0.3rem; border: 1px solid currentColor; }
.sch-closest ul { margin: 0.2rem 0 0 1.2rem; }
.sch-closest a { color: var(--sch-cite); }
.sch-flagged { font-size: 0.8rem; color: var(--sch-subdued); margin-top: 0.3rem; }
.sch-meta { font-size: 0.75rem; color: var(--sch-subdued); margin-top: 0.35rem; }
.sch-error, .sch-alert { color: var(--sch-error-fg); font-weight: 500; }
.sch-alert { padding: 0.3rem 0.2rem; }
#sch-alert:has(.sch-alert-empty) { display: none; }
.sch-sources { display: flex; flex-direction: column; gap: 0.6rem; }
.sch-group > summary { cursor: pointer; font-weight: 600; padding: 0.3rem 0; color: var(--body-text-color); }
.sch-q { color: var(--sch-cite); margin-right: 0.25rem; }
.sch-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 0.6rem 0.8rem;
  margin: 0.5rem 0; background: var(--background-fill-primary); color: var(--body-text-color);
  scroll-margin-top: 0.5rem; }
.sch-card:target { outline: 2px solid var(--sch-cite); }
.sch-card-head { font-weight: 600; line-height: 1.35; }
.sch-num { color: var(--sch-cite); margin-right: 0.2rem; }
.sch-card-meta { font-size: 0.78rem; color: var(--sch-subdued); margin: 0.25rem 0; }
.sch-link { color: var(--sch-cite); }
.sch-abstract { font-size: 0.88rem; line-height: 1.55; margin: 0.3rem 0 0; overflow-wrap: anywhere; }
.sch-support { margin: 0.3rem 0; padding-left: 0.6rem; border-left: 3px solid var(--sch-mark-bg); }
mark.sch-quote { background: var(--sch-mark-bg); color: var(--sch-mark-fg);
  padding: 0 2px; border-radius: 3px; }
.sch-near-note, .sch-empty { color: var(--sch-subdued); font-size: 0.9rem; }
#sch-examples button { text-align: left; justify-content: flex-start; white-space: normal; }
"""

# Follow the system colour scheme unless the page asked for one (?__theme=dark|light), and
# let the header button switch between them.
TOGGLE_THEME_JS = """
() => {
  document.body.classList.toggle('dark');
  document.body.parentElement.style.colorScheme = document.body.classList.contains('dark') ? 'dark' : 'light';
}
"""

COPY_JS = """
async (text) => {
  if (!text) { return; }
  try {
    await navigator.clipboard.writeText(text);
  } catch (err) {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  const button = document.querySelector('#sch-copy');
  if (button) {
    const label = button.textContent;
    button.textContent = 'Copied ✓';
    setTimeout(() => { button.textContent = label; }, 1500);
  }
}
"""

# Keep the newest message in view while an answer streams in.
SCROLL_JS = """
() => {
  const box = document.querySelector('#sch-transcript');
  if (box) { box.scrollTop = box.scrollHeight; }
}
"""
