"""Provides the Graph API side: bearer check, injected faults, and every node and edge served.

Graph checks the token before anything else (190 before 100), answers an unknown id
or edge with code 100, and serves any `/vNN.N/` prefix; this module does the same so
that only the base URL differs between the simulator and Meta.
"""

from __future__ import annotations

import hmac
import json
import random
import re
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from simulator import media as media_mod
from simulator import send, templates
from simulator.errors import (
    GraphError,
    bad_token,
    expired_token,
    unknown_object,
)
from simulator.health import phone_number_fields
from simulator.state import Fault, State
from simulator.webhooks import WebhookSender

VERSION = re.compile(r"^v\d+\.\d+$")
FAULT_ERRORS = {"http_500": 131000, "http_503": 131016, "rate_limit": 130429}


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def error_response(error: GraphError) -> Response:
    response = json_response(error.body(), error.http_status)
    if error.code == 190:
        response.headers["WWW-Authenticate"] = (
            f'OAuth "Facebook Platform" "invalid_token" "{error.message}"')
    return response


def dispatch(state: State, hooks: WebhookSender, request: Request, version: str, node: str,
             edge: str | None = None) -> Response:
    """Answers one Graph call; every failure becomes Meta's error body."""
    try:
        _authorise(state, request)
        if not VERSION.fullmatch(version):
            raise unknown_object(request.method, version)
        _apply_fault(state, _fault_path(state, node, edge))
        if edge in SENDS and request.method == "POST":
            _latency(state)
        return json_response(_route(state, hooks, request, node, edge))
    except GraphError as error:
        return error_response(error)


def download(state: State, request: Request, token: str) -> Response:
    """`GET <media url>`: needs the bearer token; an expired or unknown URL is a 404."""
    try:
        _authorise(state, request)
        _apply_fault(state, "media")
        with state.lock:
            item = state.media.by_token(token, state.now())
        if item is None:
            raise GraphError(100, "The media URL has expired or does not exist; ask "
                             "GET /{media-id} for a new one.", http_status=404)
    except GraphError as error:
        return error_response(error)
    name = media_mod.download_name(item)
    return Response(item.data, mimetype=item.mime_type.split(";")[0], headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Length": str(len(item.data))})


def _authorise(state: State, request: Request) -> None:
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else request.args.get(
        "access_token", "")
    if not hmac.compare_digest(token.strip().encode(), state.config.access_token.encode()):
        raise bad_token()


SENDS = ("messages", "marketing_messages")
_jitter = random.Random()  # noqa: S311 - latency jitter, not a secret


def _latency(state: State) -> None:
    """Meta's time to answer a send, waited outside the state lock (config `latency_ms`)."""
    low, high = state.config.latency_ms
    if high > 0:
        time.sleep(_jitter.uniform(low, high) / 1000)


def _fault_path(state: State, node: str, edge: str | None) -> str:
    if edge in SENDS:
        return "messages"
    if edge == "media" or (edge is None and node not in (*state.config.number_ids(),
                                                           *state.config.waba_ids())):
        return "media"
    return "other"


def _apply_fault(state: State, path: str) -> None:
    with state.lock:
        fault: Fault | None = state.take_fault(path)
    if fault is None:
        return
    if fault.kind == "timeout":
        # Longer than the client's timeout; then the call goes through, as a call whose
        # answer was lost does at Meta (biz_opaque_callback_data is how Gembok finds it).
        time.sleep(fault.delay_seconds)
        return
    if fault.kind == "token_expired":
        raise expired_token()
    raise GraphError(FAULT_ERRORS[fault.kind], "Injected by the simulator's fault control.")


def _route(state: State, hooks: WebhookSender, request: Request, node: str,
           edge: str | None) -> Any:
    cfg = state.config
    method = request.method
    if node in cfg.number_ids():
        if edge is None and method == "GET":
            with state.lock:
                return phone_number_fields(state, request.args.get("fields"), node)
        if edge == "messages" and method == "POST":
            return send.handle(state, hooks, _json_body(request), node)
        if edge == "marketing_messages" and method == "POST":
            return send.marketing(state, hooks, _json_body(request), node)
        if edge == "media" and method == "POST":
            return _upload(state, request, node)
        if edge == "settings":
            return _settings(state, request)
    elif node in cfg.waba_ids() and method == "GET":
        if edge is None:
            return {"id": node, "name": cfg.business_name, "currency": "IDR",
                    "timezone_id": "107", "message_template_namespace": node[-8:]}
        if edge == "message_templates":
            with state.lock:
                return templates.listing(state.templates_of(node), request.args,
                                         request.base_url)
        if edge == "phone_numbers":
            with state.lock:
                return {"data": [phone_number_fields(state, request.args.get("fields"), n)
                                 for n in cfg.numbers_of(node)],
                        "paging": {"cursors": {"before": "QVFIU", "after": "QVFIU"}}}
    elif edge is None and method in ("GET", "DELETE"):
        return _media_node(state, request, node)
    raise unknown_object(method, node)


LOCAL_STORAGE_REGIONS = ("ID", "SG", "IN", "JP", "KR", "AU", "DE", "CH", "GB", "BR", "BH",
                         "ZA", "AE", "CA")


def _settings(state: State, request: Request) -> Any:
    """The number's settings: local storage (`storage_configuration`) is what Gembok's
    records of processing read; a POST enables it for a region or sets it back."""
    if request.method == "POST":
        wanted = (_json_body(request) or {}).get("storage_configuration")
        if not isinstance(wanted, dict) or wanted.get("status") not in (
                "IN_COUNTRY_STORAGE_ENABLED", "DEFAULT"):
            raise GraphError(100, "storage_configuration.status must be "
                                  "IN_COUNTRY_STORAGE_ENABLED or DEFAULT.")
        region = wanted.get("data_localization_region")
        if wanted["status"] == "IN_COUNTRY_STORAGE_ENABLED" and \
                region not in LOCAL_STORAGE_REGIONS:
            raise GraphError(100, "data_localization_region is not a local storage region.")
        with state.lock:
            state.storage = ({"status": "DEFAULT"} if wanted["status"] == "DEFAULT" else
                             {"status": wanted["status"], "data_localization_region": str(region)})
        return {"success": True}
    with state.lock:
        return {"storage_configuration": dict(state.storage)}


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, UnicodeDecodeError):
        raise GraphError(100, "The request body is not valid JSON.") from None


def _upload(state: State, request: Request, number: str) -> dict[str, str]:
    upload = request.files.get("file")
    data = upload.read() if upload is not None else None
    mime = media_mod.check_upload(request.form.get("messaging_product"), data,
                                  request.form.get("type"),
                                  upload.mimetype if upload is not None else None)
    assert data is not None and upload is not None  # check_upload refused it otherwise
    with state.lock:
        item = state.media.add(data, mime, upload.filename or None, number, state.now())
    return {"id": item.id}


def _media_node(state: State, request: Request, node: str) -> dict[str, Any]:
    phone = request.args.get("phone_number_id")
    with state.lock:
        item = state.media.get(node, state.now())
        if item is None:
            raise unknown_object(request.method, node)
        if phone is not None and phone != item.phone_number_id:
            raise GraphError(100, f"Media {node} was not uploaded on phone number {phone}.")
        if request.method == "DELETE":
            state.media.delete(node)
            return {"success": True}
        token = state.media.new_url(item, state.now())
        return media_mod.describe(item, f"{request.host_url}_media/{token}")
