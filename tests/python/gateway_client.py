"""Calls a provider API with the official `openai` and `anthropic` SDKs, as a platform
would, and prints what each call returned, one JSON object a line. Run by
tests/api/gateway.rs twice: against the mock upstream directly and through
Sightline's gateway, whose answers must be the same.

    python gateway_client.py '{"openai": URL, "anthropic": URL, "headers": {...},
                               "scenarios": ["chat", ...]}'
"""

import json
import sys

import anthropic
import openai

OPENAI_KEY = "sk-test-PROVIDER-SECRET-123"
ANTHROPIC_KEY = "sk-ant-SECRET-456"
MESSAGES = [{"role": "user", "content": "Say hello"}]


def dump(value):
    return value.model_dump(mode="json")


def failure(error):
    return {"status": error.status_code, "body": error.body}


def main():
    config = json.loads(sys.argv[1])
    headers = config.get("headers", {})
    oai = openai.OpenAI(
        base_url=config["openai"], api_key=OPENAI_KEY, default_headers=headers, max_retries=0
    )
    claude = anthropic.Anthropic(
        base_url=config["anthropic"],
        api_key=ANTHROPIC_KEY,
        default_headers=headers,
        max_retries=0,
    )

    def chat():
        return dump(oai.chat.completions.create(model="gpt-4o", messages=MESSAGES, user="body-user"))

    def chat_stream():
        stream = oai.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        return [dump(chunk) for chunk in stream]

    def chat_stream_no_usage():
        stream = oai.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        return [dump(chunk) for chunk in stream]

    def embeddings():
        return dump(oai.embeddings.create(model="text-embedding-3-small", input="hello world"))

    def status(model):
        try:
            oai.chat.completions.create(model=model, messages=MESSAGES)
        except openai.APIStatusError as e:
            return failure(e)
        return {"status": 200}

    def messages():
        return dump(claude.messages.create(model="claude-sonnet-4-5", max_tokens=512, messages=MESSAGES))

    def messages_stream():
        stream = claude.messages.create(
            model="claude-haiku-4-5", max_tokens=512, messages=MESSAGES, stream=True
        )
        return [dump(event) for event in stream]

    def hang_up():
        # Reads the first chunks of a long stream, then closes the connection.
        stream = oai.chat.completions.create(model="mock-endless", messages=MESSAGES, stream=True)
        got = []
        for chunk in stream:
            got.append(dump(chunk))
            if len(got) == 3:
                break
        stream.close()
        return got

    scenarios = {
        "chat": chat,
        "chat_stream": chat_stream,
        "chat_stream_no_usage": chat_stream_no_usage,
        "embeddings": embeddings,
        "rate_limited": lambda: status("mock-429"),
        "server_error": lambda: status("mock-500"),
        "timeout": lambda: status("mock-slow"),
        "messages": messages,
        "messages_stream": messages_stream,
        "hang_up": hang_up,
    }
    for name in config["scenarios"]:
        print(json.dumps({"scenario": name, "result": scenarios[name]()}), flush=True)


if __name__ == "__main__":
    main()
