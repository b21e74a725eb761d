"""Test-wide environment: set before anything imports Qt or Hugging Face libraries."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["QT_QPA_PLATFORM"] = "offscreen"
