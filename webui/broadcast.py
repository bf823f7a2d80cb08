"""Provides the Broadcast pages: templates, campaigns, a campaign's preview, progress and
report, the CSV import and the rate table.

Thin shells over `appliance.automation.campaigns`, `campaign_import` and `template_book`:
the services decide who keeps what (a supervisor their divisions' campaigns, an admin
all; someone else's is a 404), check every value and audit each change. Plain forms that
post and come back; a refusal shows the service's words above the form with a 422,
keeping what was typed. The campaign page refreshes its progress by itself from
`/api/broadcast/<id>`; without a script it shows the counts of the moment it was loaded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext

from appliance.auth.permissions import Denied
from appliance.automation import audience, campaign_import, campaigns, template_book
from appliance.clock import utc_of_office_time
from appliance.errors import GembokError
from appliance.inbox import divisions
from appliance.whatsapp.client import GraphError
from webui import inputs
from webui.access import current, permission, queue, runtime

bp = Blueprint("broadcast", __name__)


@bp.get("/broadcast")
@permission("broadcast.manage")
def index() -> str:
    me = current().principal
    return render_template("broadcast/index.html", campaigns=campaigns.list_campaigns(me),
                           may_rate=me.can("settings.manage"))


@bp.get("/broadcast/templates")
@permission("broadcast.manage")
def templates_page(message: str = "", status: int = 200) -> Any:
    body = render_template("broadcast/templates.html", templates=template_book.all_templates(),
                           message=message, samples=_samples,
                           accounts=template_book.account_names(runtime()))
    return (body, status) if status != 200 else body


def _samples(t: template_book.TemplateInfo) -> str:
    return template_book.render(t, {n: f"[{n}]" for n in t.parameters})


@bp.post("/broadcast/templates/sync")
@permission("broadcast.manage")
def sync_templates() -> Any:
    try:
        done = template_book.sync(runtime())
    except GraphError as exc:  # Meta's side: a gateway's failure, said in words
        return templates_page(gettext("The templates were not synced: %(why)s", why=str(exc)),
                              502)
    except GembokError as exc:  # not configured here: the admin's to fix
        return templates_page(gettext("The templates were not synced: %(why)s", why=str(exc)),
                              422)
    said = gettext("%(total)s templates: %(added)s new, %(changed)s changed.",
                   total=done.total, added=done.added, changed=done.changed)
    if done.failed:
        said += " " + gettext("Not synced: %(accounts)s", accounts="; ".join(done.failed))
    return templates_page(said)


@bp.route("/broadcast/new", methods=["GET", "POST"])
@permission("broadcast.manage")
def new() -> Any:
    me = current().principal
    form = request.form if request.method == "POST" else request.args
    chosen = inputs.whole_number(form.get("template"))
    sendable = [t for t in template_book.all_templates() if t.sendable]
    template = next((t for t in sendable if t.id == chosen), None)
    if request.method == "POST" and template is not None:
        try:
            cid = campaigns.create(
                runtime(), me, name=form.get("name", ""), template_id=template.id,
                parameters=[{"name": n, "source": form.get(f"source_{n}", ""),
                             "value": form.get(f"value_{n}", "")} for n in template.parameters],
                audience_filter=None if form.get("recipients") == "csv" else _filter(form),
                quiet_start=form.get("quiet_start") or None,
                quiet_end=form.get("quiet_end") or None,
                number_id=inputs.whole_number(form.get("number")) or 1)
        except GembokError as exc:
            return _new_page(sendable, template, dict(form),
                             gettext("The campaign was not created: %(why)s", why=str(exc)),
                             422)
        return redirect(url_for("broadcast.campaign", campaign_id=cid))
    return _new_page(sendable, template, dict(form))


def _filter(form: Any) -> audience.Filter:
    days = inputs.whole_number(form.get("days")) if form.get("days") else None
    if form.get("days") and days is None:
        raise audience.AudienceError(gettext("last contact: give a number of days"))
    division = inputs.whole_number(form.get("division")) if form.get("division") else None
    return audience.Filter(divisions=(division,) if division else (),
                           label=form.get("label", "")[:40], contacted_within_days=days,
                           consent=form.get("consent", "any"))


def _new_page(sendable: list[template_book.TemplateInfo],
              template: template_book.TemplateInfo | None, form: dict[str, Any],
              error: str = "", status: int = 200) -> Any:
    me, rt = current().principal, runtime()
    settings = rt.settings.broadcast
    body = render_template("broadcast/new.html", templates=sendable, template=template,
                           form=form, error=error, accounts=template_book.account_names(rt),
                           divisions=divisions.list_divisions(me),
                           numbers=campaigns.senders(rt, template) if template else [],
                           quiet=(settings.quiet_start, settings.quiet_end))
    return (body, status) if status != 200 else body


@bp.get("/broadcast/<int:campaign_id>")
@permission("broadcast.manage")
def campaign(campaign_id: int, message: str = "", errors: list[str] | None = None,
             status: int = 200) -> Any:
    me = current().principal
    rt = runtime()
    report = campaigns.report(me, campaign_id)
    body = render_template("broadcast/campaign.html", r=report, c=report.summary,
                           preview=campaigns.preview(rt, me, campaign_id),
                           reasons=audience.REASONS, message=message, errors=errors or [],
                           zone=rt.settings.timezone, chart=_chart(report.timeline))
    return (body, status) if status != 200 else body


def _chart(points: list[tuple[str, int, int, int, int]]) -> list[dict[str, Any]]:
    """Bars per minute for the page's SVG: sent and delivered, scaled to the busiest."""
    top = max((max(p[1], p[2]) for p in points), default=0) or 1
    return [{"minute": p[0][11:16], "sent": p[1], "delivered": p[2], "read": p[3],
             "failed": p[4], "h_sent": round(100 * p[1] / top),
             "h_delivered": round(100 * p[2] / top)} for p in points[-60:]]


@bp.post("/broadcast/<int:campaign_id>/import")
@permission("broadcast.manage")
def import_csv(campaign_id: int) -> Any:
    upload = request.files.get("file")
    if upload is None:
        return campaign(campaign_id, gettext("Choose a CSV file first."), status=400)
    try:
        done = campaign_import.import_csv(runtime(), current().principal, campaign_id,
                                          upload.read())
    except GembokError as exc:
        return campaign(campaign_id, gettext("Nothing was imported: %(why)s", why=str(exc)),
                        status=422)
    return campaign(campaign_id, gettext(
        "%(added)s recipients added (%(created)s new customers); %(refused)s rows refused.",
        added=done.added, created=done.created, refused=len(done.errors)), done.errors[:500])


@bp.post("/broadcast/<int:campaign_id>/start")
@permission("broadcast.manage")
def start(campaign_id: int) -> Any:
    when = request.form.get("start_at", "").strip()
    start_at = None
    if when:
        try:
            local = datetime.fromisoformat(when)
        except ValueError:
            return campaign(campaign_id, gettext("The start time is not a date and time."),
                            status=400)
        start_at = utc_of_office_time(local, runtime().settings.timezone)
    return _act(campaign_id, lambda: campaigns.start(runtime(), current().principal,
                                                     campaign_id, start_at))


@bp.post("/broadcast/<int:campaign_id>/<any(pause, resume, cancel):action>")
@permission("broadcast.manage")
def change(campaign_id: int, action: str) -> Any:
    act = {"pause": campaigns.pause, "resume": campaigns.resume, "cancel": campaigns.cancel}
    return _act(campaign_id, lambda: act[action](runtime(), current().principal, campaign_id))


def _act(campaign_id: int, call: Any) -> Any:
    try:
        call()
    except Denied:
        raise  # the route's guard answers 404
    except GembokError as exc:
        return campaign(campaign_id, str(exc), status=422)
    if request.endpoint in ("broadcast.start", "broadcast.change"):
        queue().run_campaign(campaign_id)  # the worker takes it now, not at the next tick
    return redirect(url_for("broadcast.campaign", campaign_id=campaign_id))


@bp.get("/broadcast/<int:campaign_id>/report.csv")
@permission("broadcast.manage")
def report_csv(campaign_id: int) -> Response:
    text = campaigns.report_csv(current().principal, campaign_id)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="campaign-{campaign_id}.csv"'})


@bp.get("/api/broadcast/<int:campaign_id>")
@permission("broadcast.manage", activity=False)
def progress(campaign_id: int) -> Response:
    s = campaigns.get(current().principal, campaign_id)
    return jsonify(state=s.state, note=s.note, counts=s.counts, done=s.done,
                   to_send=s.to_send, total=s.total)


@bp.route("/broadcast/rates", methods=["GET", "POST"])
@permission("settings.manage")
def rates() -> Any:
    error, status = "", 200
    if request.method == "POST":
        try:
            campaigns.set_rate(runtime(), current().principal, request.form.get("category", ""),
                               request.form.get("currency", ""), request.form.get("price", ""))
        except GembokError as exc:
            error, status = gettext("The rate was not saved: %(why)s", why=str(exc)), 422
        else:
            return redirect(url_for("broadcast.rates"))
    body = render_template("broadcast/rates.html", rates=campaigns.rates(), error=error,
                           categories=campaigns.CATEGORIES, form=dict(request.form))
    return (body, status) if status != 200 else body
