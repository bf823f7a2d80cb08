"""Provides Meta's error codes in plain words, for the agent who sees a message fail.

Keyed on the code (Meta's titles change and will be deprecated); the words say what
happened and what the agent can do, in Indonesian and English, never Meta's jargon.
"""

from __future__ import annotations

PLAIN: dict[int, tuple[str, str]] = {
    131047: ("Lebih dari 24 jam sejak pelanggan terakhir menulis: kirim template.",
             "More than 24 hours since the customer last wrote: send a template."),
    131026: ("Pesan tidak bisa diterima: nomor ini tidak memakai WhatsApp atau aplikasinya "
             "terlalu lama.", "Cannot be delivered: not a WhatsApp number, or an outdated app."),
    131049: ("WhatsApp menahan pesan pemasaran ini agar pelanggan tidak menerima terlalu banyak.",
             "WhatsApp held this marketing message back to limit what the customer receives."),
    131050: ("Pelanggan sudah berhenti berlangganan pesan pemasaran.",
             "The customer has stopped marketing messages."),
    131056: ("Terlalu banyak pesan ke pelanggan ini dalam waktu singkat: coba lagi sebentar lagi.",
             "Too many messages to this customer in a short time: try again shortly."),
    130429: ("Nomor bisnis sedang mencapai batas kecepatan kirim: pesan dicoba lagi otomatis.",
             "The business number hit its sending rate: it is retried automatically."),
    131048: ("Nomor bisnis dibatasi karena banyak pesan ditandai spam.",
             "The business number is limited: too many messages were marked as spam."),
    131051: ("Jenis pesan ini tidak didukung WhatsApp.", "WhatsApp does not support this type."),
    132000: ("Jumlah isian template tidak cocok.", "The template got the wrong number of values."),
    132001: ("Template tidak ada atau belum disetujui dalam bahasa ini.",
             "The template does not exist or is not approved in this language."),
    190: ("Token akses WhatsApp ditolak: admin perlu memasukkan token baru.",
          "The WhatsApp access token was refused: an admin must enter a new one."),
    131000: ("WhatsApp sedang bermasalah: pesan dicoba lagi otomatis.",
             "WhatsApp had a problem: the message is retried automatically."),
    -1: ("Tidak jelas apakah pesan terkirim (pengiriman terputus); tidak dikirim ulang.",
         "Unclear whether it was sent (the send was cut off); not sent again."),
}


def plain_words(code: int | None, language: str = "id") -> str:
    if code is None:
        return ""
    pair = PLAIN.get(code)
    if pair is None:
        return (f"WhatsApp menolak pesan ini (kode {code})." if language == "id"
                else f"WhatsApp refused this message (code {code}).")
    return pair[0] if language == "id" else pair[1]
