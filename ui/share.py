"""The absolute participant link of a session, and its QR code."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import qrcode
import streamlit as st

from core.config import settings


def base_url() -> str:
    """HARMONICA_BASE_URL when set (behind a proxy), else the address the creator's browser uses."""
    configured = settings().base_url
    if configured:
        return configured.rstrip("/")
    url = urlsplit(st.context.url or "http://localhost:8501")
    return f"{url.scheme}://{url.netloc}"


def chat_link(session_id: str) -> str:
    return f"{base_url()}/chat?s={session_id}"


def qr_png(link: str) -> bytes:
    image = qrcode.make(link, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
