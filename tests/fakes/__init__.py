"""Test doubles that speak real protocols (e.g. the fake OpenAI HTTP server)."""

from tests.fakes.fake_openai import FakeOpenAI, closed_port_url

__all__ = ["FakeOpenAI", "closed_port_url"]
