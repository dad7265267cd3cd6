#!/usr/bin/python3
"""llm_mock.py IP:PORT... — answers like the LLM HTTP APIs, JSON and streaming, for the captures.

  POST /v1/chat/completions, /openai/v1/chat/completions, /api/v1/chat/completions,
       /openai/deployments/*/chat/completions   OpenAI and compatible (Mistral, Groq, OpenRouter,
                                               Azure, vLLM): chat.completion, or SSE
                                               chat.completion.chunk lines + [DONE] if "stream"
  POST /v1/completions                         text_completion (SSE if "stream")
  POST /v1/responses                           response object, or the SSE response.* events
  POST /v1/embeddings                          a list with one small embedding per input
  POST /v1/messages                            Anthropic message, or SSE message_start ... stop
  POST /v1beta/models/M:generateContent        Gemini candidates; :streamGenerateContent?alt=sse
  POST /v2/chat                                Cohere v2 chat response
  POST /api/chat, /api/generate                Ollama: NDJSON stream unless "stream": false
  POST /model/M/invoke                         Bedrock InvokeModel (Anthropic body shape)

Anything else is a 404 with an OpenAI-style error body. Run by make_class_captures.sh.
"""
import json
import re
import sys

from mock_http import Handler, main

TEXT = "Hello from the mock model."
WORDS = ["Hello", " from", " the", " mock", " model."]
USAGE = {"prompt_tokens": 9, "completion_tokens": 6, "total_tokens": 15}


class LlmHandler(Handler):
    name = "llm_mock"

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        req = self.read_json()
        stream = bool(req.get("stream")) if isinstance(req, dict) else False
        model = req.get("model", "mock-model") if isinstance(req, dict) else "mock-model"
        if re.fullmatch(r"(/v1|/openai/v1|/api/v1|/openai/deployments/[^/]+)/chat/completions",
                        path):
            return self.openai_chat(model, stream)
        if path == "/v1/completions":
            return self.openai_completion(model, stream)
        if path == "/v1/responses":
            return self.openai_responses(model, stream)
        if path == "/v1/embeddings":
            return self.openai_embeddings(model, req)
        if path == "/v1/messages":
            return self.anthropic(model, stream)
        m = re.fullmatch(r"/v1beta/models/([^/:]+):(generateContent|streamGenerateContent)", path)
        if m:
            return self.gemini(m.group(1), m.group(2) == "streamGenerateContent")
        if path == "/v2/chat":
            return self.cohere(model)
        if path in ("/api/chat", "/api/generate"):
            return self.ollama(model, path == "/api/chat", req.get("stream", True))
        m = re.fullmatch(r"/model/([^/]+)/invoke", path)
        if m:
            return self.bedrock(m.group(1))
        return self.not_found()

    # --- OpenAI and compatible -----------------------------------------------------------------
    def openai_chat(self, model, stream):
        hdrs = [("x-request-id", "req_mock0001"), ("openai-processing-ms", "12")]
        if not stream:
            return self.send_json({
                "id": "chatcmpl-mock0001", "object": "chat.completion", "created": 1735689600,
                "model": model, "choices": [{"index": 0, "finish_reason": "stop", "message": {
                    "role": "assistant", "content": TEXT}}], "usage": USAGE}, headers=hdrs)
        self.start_stream("text/event-stream; charset=utf-8", headers=hdrs)
        base = {"id": "chatcmpl-mock0002", "object": "chat.completion.chunk",
                "created": 1735689600, "model": model}
        self.sse(dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""},
                                      "finish_reason": None}]))
        for w in WORDS:
            self.sse(dict(base, choices=[{"index": 0, "delta": {"content": w},
                                          "finish_reason": None}]))
        self.sse(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}]))
        self.sse("[DONE]")
        self.end_stream()

    def openai_completion(self, model, stream):
        if not stream:
            return self.send_json({
                "id": "cmpl-mock0001", "object": "text_completion", "created": 1735689600,
                "model": model, "choices": [{"text": TEXT, "index": 0, "logprobs": None,
                                             "finish_reason": "stop"}], "usage": USAGE})
        self.start_stream("text/event-stream; charset=utf-8")
        for w in WORDS:
            self.sse({"id": "cmpl-mock0002", "object": "text_completion", "created": 1735689600,
                      "model": model, "choices": [{"text": w, "index": 0, "logprobs": None,
                                                   "finish_reason": None}]})
        self.sse("[DONE]")
        self.end_stream()

    def openai_responses(self, model, stream):
        resp = {"id": "resp_mock0001", "object": "response", "created_at": 1735689600,
                "status": "completed", "model": model, "output": [{
                    "type": "message", "id": "msg_mock0001", "status": "completed",
                    "role": "assistant", "content": [{"type": "output_text", "text": TEXT,
                                                      "annotations": []}]}],
                "usage": {"input_tokens": 9, "output_tokens": 6, "total_tokens": 15}}
        if not stream:
            return self.send_json(resp)
        self.start_stream("text/event-stream; charset=utf-8")
        seq = 0
        inprog = dict(resp, status="in_progress", output=[])
        self.sse({"type": "response.created", "sequence_number": seq, "response": inprog},
                 "response.created")
        for w in WORDS:
            seq += 1
            self.sse({"type": "response.output_text.delta", "sequence_number": seq,
                      "item_id": "msg_mock0001", "output_index": 0, "content_index": 0,
                      "delta": w}, "response.output_text.delta")
        self.sse({"type": "response.completed", "sequence_number": seq + 1, "response": resp},
                 "response.completed")
        self.end_stream()

    def openai_embeddings(self, model, req):
        inputs = req.get("input", "")
        n = len(inputs) if isinstance(inputs, list) else 1
        self.send_json({"object": "list", "model": model, "usage": {"prompt_tokens": 4,
                                                                     "total_tokens": 4},
                        "data": [{"object": "embedding", "index": i,
                                  "embedding": [0.0125, -0.0311, 0.0042, 0.0207, -0.0093, 0.0158,
                                                -0.0027, 0.0089]} for i in range(n)]})

    # --- Anthropic ------------------------------------------------------------------------------
    def anthropic(self, model, stream):
        hdrs = [("request-id", "req_mock0001"), ("anthropic-organization-id", "org-mock")]
        msg = {"id": "msg_mock0001", "type": "message", "role": "assistant", "model": model,
               "content": [{"type": "text", "text": TEXT}], "stop_reason": "end_turn",
               "stop_sequence": None, "usage": {"input_tokens": 9, "output_tokens": 6}}
        if not stream:
            return self.send_json(msg, headers=hdrs)
        self.start_stream("text/event-stream; charset=utf-8", headers=hdrs)
        self.sse({"type": "message_start", "message": dict(msg, content=[], stop_reason=None)},
                 "message_start")
        self.sse({"type": "content_block_start", "index": 0,
                  "content_block": {"type": "text", "text": ""}}, "content_block_start")
        for w in WORDS:
            self.sse({"type": "content_block_delta", "index": 0,
                      "delta": {"type": "text_delta", "text": w}}, "content_block_delta")
        self.sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
        self.sse({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                  "usage": {"output_tokens": 6}}, "message_delta")
        self.sse({"type": "message_stop"}, "message_stop")
        self.end_stream()

    # --- Gemini, Cohere, Ollama, Bedrock --------------------------------------------------------
    def gemini(self, model, stream):
        cand = {"candidates": [{"content": {"role": "model", "parts": [{"text": TEXT}]},
                                "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 6,
                                  "totalTokenCount": 15}, "modelVersion": model}
        if not stream:
            return self.send_json(cand)
        self.start_stream("text/event-stream")
        for w in WORDS:
            self.sse({"candidates": [{"content": {"role": "model", "parts": [{"text": w}]},
                                      "index": 0}], "modelVersion": model})
        self.end_stream()

    def cohere(self, model):
        self.send_json({"id": "c0ffee00-0000-4000-8000-000000000001", "finish_reason": "COMPLETE",
                        "message": {"role": "assistant",
                                    "content": [{"type": "text", "text": TEXT}]},
                        "usage": {"billed_units": {"input_tokens": 9, "output_tokens": 6},
                                  "tokens": {"input_tokens": 9, "output_tokens": 6}}})

    def ollama(self, model, chat, stream):
        def line(text, done):
            obj = {"model": model, "created_at": "2025-01-01T00:00:00Z", "done": done}
            if chat:
                obj["message"] = {"role": "assistant", "content": text}
            else:
                obj["response"] = text
            if done:
                obj.update(done_reason="stop", total_duration=123456789, eval_count=6)
            return json.dumps(obj) + "\n"
        if not stream:
            return self.send_json(json.loads(line(TEXT, True)))
        self.start_stream("application/x-ndjson")
        for w in WORDS:
            self.chunk(line(w, False))
        self.chunk(line("", True))
        self.end_stream()

    def bedrock(self, model):
        self.send_json({"id": "msg_bdrk_mock0001", "type": "message", "role": "assistant",
                        "model": model, "content": [{"type": "text", "text": TEXT}],
                        "stop_reason": "end_turn", "usage": {"input_tokens": 9,
                                                             "output_tokens": 6}},
                       headers=[("x-amzn-RequestId", "5b0c7e0e-0000-4000-8000-000000000001"),
                                ("X-Amzn-Bedrock-Input-Token-Count", "9"),
                                ("X-Amzn-Bedrock-Output-Token-Count", "6")])


if __name__ == "__main__":
    sys.exit(main(LlmHandler, sys.argv))
