"""A data-subject request on the box as `gembok run` runs it: a customer writes HAPUS DATA
SAYA, the worker records the request with its 3 x 24-hour clock, the DPO answers it on
the web, the confirmation reaches the customer's phone, and only then the scheduler erases
her, with everything audited."""

from __future__ import annotations

from appliance.store.db import db
from appliance.store.models import AuditEntry, Conversation, Customer
from appliance.store.privacy import PrivacyRequest
from tests.process.conftest import Office
from tests.running import eventually

PHONE = "6281377005678"


def test_an_erasure_asked_on_whatsapp_is_confirmed_to_her_then_done(office: Office) -> None:
    # Given Dewi, the DPO, and Wulan, who writes that she wants her data erased
    office.division("Sales")
    dewi = office.staff("dewi", "Sales", role="dpo")
    convo = office.customer_writes(PHONE, "Wulan Sari", "Hapus data saya")
    customer = Conversation.get_by_id(convo).customer_id

    def recorded() -> PrivacyRequest | None:
        """the worker recorded her request"""
        db.close()
        return PrivacyRequest.get_or_none(PrivacyRequest.customer == customer)

    request = eventually(recorded, timeout=30)
    assert (request.kind, request.channel, request.state) == ("erasure", "whatsapp", "open")
    queue = dewi.get("/privacy").text
    assert f'href="/privacy/requests/{request.id}"' in queue

    # When Dewi erases her from the request's page
    answered = dewi.form(f"/privacy/requests/{request.id}/erase")
    assert answered.status_code == 200, answered.text[:300]

    # Then the confirmation reaches Wulan's phone first
    def confirmed() -> list[dict]:
        """the confirmation is on her phone"""
        inbox = office.sim.get(f"/_sim/customers/{PHONE}/inbox").json()["messages"]
        return [m for m in inbox if "kami hapus" in str(m["message"].get("body", ""))]

    eventually(confirmed, timeout=30)

    # And the scheduler erases her once it has left, and says so in the audit log
    def erased() -> Customer | None:
        """the scheduler erased her"""
        db.close()
        row = Customer.get_by_id(customer)
        return row if row.erased_at is not None else None

    eventually(erased, timeout=90)
    db.close()
    done = PrivacyRequest.get_by_id(request.id)
    assert (done.state, done.outcome, done.answer) == ("done", "erased", "sent")
    actions = [e.action for e in AuditEntry.select().where(
        AuditEntry.target == f"customer:{customer}").order_by(AuditEntry.seq)]
    assert actions.index("privacy.request_recorded") < actions.index(
        "privacy.erasure_confirmed") < actions.index("customer.erased")
