"""The official Anthropic Python SDK against tests/common/anthropic.rs, the fake
Messages API our Claude tests run against: if the SDK, which parses the real API,
reads the fake's answers, streams, errors and model list, then the fake follows
the public API's shapes and our client's tests mean something.

Usage: python anthropic_fake.py BASE_URL API_KEY  (run by the ignored test
`official_sdk_reads_the_fake` in tests/claude.rs, which serves the script below).
"""

import sys

import anthropic

url, key = sys.argv[1], sys.argv[2]
client = anthropic.Anthropic(api_key=key, base_url=url, max_retries=0)
ask = dict(model="claude-test-1", max_tokens=64, messages=[{"role": "user", "content": "Hi"}])

# 1. A message with usage.
m = client.messages.create(**ask)
assert m.type == "message" and m.role == "assistant", m
assert m.model == "claude-test-1", m.model
assert [b.type for b in m.content] == ["text"] and m.content[0].text == "Hello from the fake", m.content
assert m.stop_reason == "end_turn", m.stop_reason
assert (m.usage.input_tokens, m.usage.output_tokens) == (21, 7), m.usage
assert m._request_id == "req_fake_0000", m._request_id

# 2. A stream, accumulated by the SDK's own event handling.
with client.messages.stream(**ask) as stream:
    text = "".join(stream.text_stream)
    final = stream.get_final_message()
assert text == "The answer grows word by word.", text
assert final.content[0].text == text, final.content
assert (final.usage.input_tokens, final.usage.output_tokens) == (17, 9), final.usage
assert final.stop_reason == "end_turn", final.stop_reason

# 3. The error envelope, typed by status, with the request id.
try:
    client.messages.create(**ask)
    raise AssertionError("expected a rate limit error")
except anthropic.RateLimitError as e:
    assert e.status_code == 429, e.status_code
    assert e.body["error"]["type"] == "rate_limit_error", e.body
    assert e.request_id == "req_fake_0002", e.request_id
    assert e.response.headers["retry-after"] == "1"

# 4. A wrong key.
try:
    anthropic.Anthropic(api_key="sk-ant-wrong", base_url=url, max_retries=0).messages.create(**ask)
    raise AssertionError("expected an authentication error")
except anthropic.AuthenticationError as e:
    assert e.body["error"]["type"] == "authentication_error", e.body

# 5. The models list our health probe reads.
page = client.models.list(limit=1)
assert [model.id for model in page.data] == ["claude-test-1"], page

print(f"anthropic {anthropic.__version__}: the fake Messages API reads as the real one")
