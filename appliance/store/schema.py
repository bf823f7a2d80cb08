"""Provides `ALL_MODELS`: every table, in an order that creates foreign keys' targets first."""

from __future__ import annotations

from appliance.store.accounts import (
    CustomerChange,
    KnownDevice,
    LoginEvent,
    LoginThrottle,
    RateWindow,
    RecoveryCode,
    Reveal,
    UserSession,
)
from appliance.store.alerts import KeptAlert
from appliance.store.automation import (
    AutomationSetting,
    AutoReplyLog,
    AutoRule,
    AutoSent,
    ConsentConfirmed,
    MenuState,
)
from appliance.store.broadcast import Campaign, CampaignRecipient, MessageRate, WaTemplate
from appliance.store.chatroom import (
    ChangeEvent,
    ConversationLabel,
    ConversationRead,
    CustomerToken,
    Label,
    Note,
    QuickReply,
)
from appliance.store.consent import ConsentEvent, PrivacyNotice
from appliance.store.hours import HoursDay, HoursPeriod, HoursSchedule
from appliance.store.keystate import AppState, KeyJob
from appliance.store.models import (
    AuditEntry,
    BaseModel,
    Conversation,
    Customer,
    CustomerKey,
    Division,
    InboxEvent,
    Media,
    Message,
    NumberHealth,
    Outbox,
    PendingStatus,
    SecretSetting,
    User,
    UserDivision,
)
from appliance.store.numbers import CustomerWindow, WaNumber
from appliance.store.privacy import Breach, LegalHold, PrivacyRequest

ALL_MODELS: list[type[BaseModel]] = [
    Division, User, RecoveryCode, UserSession, KnownDevice, LoginThrottle, LoginEvent, Reveal,
    UserDivision, Customer, CustomerKey, Conversation, Message, Media, InboxEvent,
    PendingStatus, Outbox, NumberHealth, SecretSetting, Label, ConversationLabel, Note,
    QuickReply, ConversationRead, CustomerToken, ChangeEvent, AppState, KeyJob, AuditEntry,
    RateWindow, CustomerChange, KeptAlert, ConsentEvent,
    HoursSchedule, HoursPeriod, HoursDay, AutoRule, AutoReplyLog,
    AutoSent, MenuState, AutomationSetting, PrivacyNotice, ConsentConfirmed,
    WaTemplate, Campaign, CampaignRecipient, MessageRate,
    PrivacyRequest, LegalHold, Breach, WaNumber, CustomerWindow,
]
