"""Provides the DPO's pages (UU PDP): the requests queue with its clocks, a request, a
customer's privacy page (export, correction, legal hold), retention, breaches and the
records of processing; and the chatroom's way for staff to record a request.

Thin shells over `appliance.privacy`: the services decide, check and audit. Plain forms
that post and come back; a refusal shows the service's words with a 422. The export's
one-time password is in the page that answers the POST, once: it is never stored, and
the download link carries a random token, never the customer's data.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext

from appliance.auth.permissions import Denied
from appliance.clock import utc_of_office_time
from appliance.errors import GembokError
from appliance.inbox.customers import find_by_phone
from appliance.privacy import (
    breach,
    correction,
    customer_file,
    export,
    holds,
    records,
    requests,
    retention,
)
from appliance.store.privacy import REQUEST_KINDS
from webui import inputs
from webui.access import current, permission, queue, runtime

bp = Blueprint("privacy", __name__)


def _page(template: str, status: int = 200, **context: Any) -> Any:
    body = render_template(template, kinds=REQUEST_KINDS, **context)
    return (body, status) if status != 200 else body


@bp.get("/privacy")
@permission("privacy.manage")
def queue_page(error: str = "", status: int = 200) -> Any:
    me = current().principal
    return _page("privacy/queue.html", status, open=requests.queue(me),
                 finished=requests.queue(me, finished=True)[:50], error=error,
                 holds=holds.list_holds(me), form=request.form)


@bp.post("/privacy/requests")
@permission("privacy.manage")
def record_request() -> Any:
    rt, me = runtime(), current().principal
    form = request.form
    customer_id = inputs.whole_number(form.get("customer"))
    phone = form.get("phone", "").strip()[:40]
    try:
        if customer_id is None and phone:
            customer_id = find_by_phone(rt, phone)
        if customer_id is None:
            return queue_page(gettext("Give the customer's number (as on WhatsApp) or their "
                                      "customer id."), 422)
        received = None
        if form.get("received_at"):
            received = utc_of_office_time(datetime.fromisoformat(form["received_at"]),
                                          rt.settings.timezone)
        rid = requests.record(rt, me, customer_id, form.get("kind", ""), received_at=received)
    except ValueError:
        return queue_page(gettext("That is not a whole phone number or a date and time."), 422)
    except Denied:
        return queue_page(gettext("There is no such customer."), 422)
    except GembokError as exc:
        return queue_page(str(exc), 422)
    return redirect(url_for("privacy.request_page", request_id=rid))


@bp.get("/privacy/requests/<int:request_id>")
@permission("privacy.manage")
def request_page(request_id: int, error: str = "", status: int = 200) -> Any:
    me = current().principal
    view = requests.get(me, request_id)
    return _page("privacy/request.html", status, r=view, error=error,
                 refusals=requests.REFUSALS, words=requests.KIND_WORDS)


@bp.post("/privacy/requests/<int:request_id>/<any(done, refuse, erase):action>")
@permission("privacy.manage")
def answer(request_id: int, action: str) -> Any:
    rt, me = runtime(), current().principal
    try:
        if action == "done":
            outbox = requests.complete(rt, me, request_id,
                                       request.form.get("outcome", "answered")[:32])
        elif action == "refuse":
            outbox = requests.refuse(rt, me, request_id, request.form.get("why", ""))
        else:
            outbox = requests.erase(rt, me, request_id)
    except Denied:
        raise
    except GembokError as exc:
        return request_page(request_id, str(exc), 422)
    if outbox is not None:
        queue().send_outbox(outbox)
    return redirect(url_for("privacy.request_page", request_id=request_id))


@bp.get("/privacy/customers/<int:customer_id>")
@permission("privacy.manage")
def customer_page(customer_id: int, error: str = "", status: int = 200,
                  password: str = "", token: str = "") -> Any:
    found = customer_file.open_file(runtime(), current().principal, customer_id)
    return _page("privacy/customer.html", status, f=found, customer=found.customer,
                 error=error, password=password, token=token)


@bp.post("/privacy/customers/<int:customer_id>/<any(export, hold, release, correct):action>")
@permission("privacy.manage")
def customer_action(customer_id: int, action: str) -> Any:
    rt, me = runtime(), current().principal
    form = request.form
    try:
        if action == "export":
            made = export.build(rt, me, customer_id)
            token = export.keep(rt.settings, made)
            return customer_page(customer_id, password=made.password, token=token)
        if action == "hold":
            holds.set_hold(rt, me, customer_id, form.get("reason", ""))
        elif action == "release":
            holds.release(rt, me, customer_id)
        else:
            correction.correct_name(rt, me, customer_id, form.get("name", ""),
                                    form.get("reason", ""))
    except Denied:
        raise
    except GembokError as exc:
        return customer_page(customer_id, str(exc), 422)
    return redirect(url_for("privacy.customer_page", customer_id=customer_id))


@bp.get("/privacy/exports/<token>")
@permission("privacy.manage")
def download(token: str) -> Response:
    customer_id, data = export.kept(runtime(), current().principal, token)
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="gembok-customer-{customer_id}.zip"',
        "Cache-Control": "no-store"})


@bp.route("/privacy/retention", methods=["GET", "POST"])
@permission("privacy.manage")
def retention_page() -> Any:
    rt, me = runtime(), current().principal
    error, status, warning = "", 200, ""
    if request.method == "POST":
        division = inputs.whole_number(request.form.get("division"))
        raw = request.form.get("days", "").strip()
        days = inputs.whole_number(raw) if raw else None
        if division is None or (raw and days is None):
            error, status = gettext("Choose a division and give a whole number of days."), 422
        else:
            try:
                warning = retention.set_days(rt, me, division, days)
            except GembokError as exc:
                error, status = str(exc), 422
    return _page("privacy/retention.html", status, rows=retention.preview(rt, me), error=error,
                 warning=warning, minimum=rt.settings.privacy.sector_minimum_days)


@bp.route("/privacy/breaches", methods=["GET", "POST"])
@permission("privacy.manage")
def breaches_page() -> Any:
    rt, me = runtime(), current().principal
    error, status = "", 200
    if request.method == "POST":
        form = request.form
        try:
            zone = rt.settings.timezone
            bid = breach.record(
                rt, me, starts_at=utc_of_office_time(datetime.fromisoformat(
                    form.get("starts_at", "")), zone),
                ends_at=utc_of_office_time(datetime.fromisoformat(form.get("ends_at", "")),
                                           zone),
                accounts=form.get("accounts", "")[:500],
                addresses=form.get("addresses", "")[:500],
                description=form.get("description", ""))
            return redirect(url_for("privacy.breach_page", breach_id=bid))
        except ValueError:
            error, status = gettext("Give the window's start and end as dates and times."), 422
        except GembokError as exc:
            error, status = str(exc), 422
    return _page("privacy/breaches.html", status, rows=breach.list_breaches(me), error=error,
                 form=request.form)


@bp.get("/privacy/breaches/<int:breach_id>")
@permission("privacy.manage")
def breach_page(breach_id: int) -> Any:
    return _page("privacy/breach.html", b=breach.report(runtime(), current().principal,
                                                        breach_id))


@bp.post("/privacy/breaches/<int:breach_id>/notified")
@permission("privacy.manage")
def breach_notified(breach_id: int) -> Any:
    breach.mark_notified(runtime(), current().principal, breach_id)
    return redirect(url_for("privacy.breach_page", breach_id=breach_id))


@bp.get("/privacy/records")
@permission("privacy.manage")
def records_page() -> Any:
    return _page("privacy/records.html", r=records.records(runtime(), current().principal))


@bp.get("/privacy/records.json")
@permission("privacy.manage")
def records_json() -> Response:
    rt, me = runtime(), current().principal
    found = records.records(rt, me)
    rt.audit(actor=me.actor, action="privacy.records_exported", target="")
    return Response(json.dumps(found, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition":
                             'attachment; filename="gembok-records-of-processing.json"'})


@bp.post("/api/customers/<int:customer_id>/privacy-requests")
@permission("privacy.request")
def api_record(customer_id: int) -> Any:
    """An agent records what the customer they serve asks for under the law."""
    data = inputs.body()
    kind = inputs.field(data, "kind", str, "")
    try:
        rid = requests.record(runtime(), current().principal, customer_id, kind)
    except Denied:
        raise
    except GembokError as exc:
        return jsonify(error=str(exc)), 422
    return jsonify(id=rid, kind=kind, due_at=requests.due_at(rid)), 201
