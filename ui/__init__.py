"""Scholium's web UI (Gradio): chat with streamed answers and a panel of cited sources.

Gradio's usage analytics are switched off before ``gradio`` is imported anywhere in this
package, so the app makes no request to the internet.
"""

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
