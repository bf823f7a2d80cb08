"""How long Auto Reply's rules take per inbound message: 1,000 rules of 200 keywords each.

The rule set a large business might grow: 1,000 rules, each with 200 keywords (product
names, order words, complaints; 70 % "contains", 15 % whole word, 10 % starts-with, 5 %
exact) plus 20 regular expressions, tried against realistic Indonesian customer
messages, as the worker does (`RuleSet.evaluate`, normalising included). Baseline in the
same run: trying every keyword of every rule in order against the same normalised
message, in memory (what an unindexed rule engine does at best: peers also query SQL).

    .venv/bin/python bench/rules.py [--rules 1000] [--keywords 200] [--messages 20000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from procs import load_note, machine_facts

from appliance.automation.matcher import Incoming, RuleSet
from appliance.automation.normalise import normalise
from appliance.automation.rules import Action, Rule, Trigger

STEMS = ["tagihan", "bayar", "paket", "kirim", "resi", "promo", "diskon", "retur", "tukar",
         "garansi", "servis", "ongkir", "cicilan", "voucher", "member", "stok", "harga",
         "ukuran", "warna", "batal", "refund", "komplain", "rusak", "telat", "alamat"]
SYLLABLES = ["ka", "ri", "ma", "su", "to", "pe", "la", "ni", "ba", "go", "de", "yu", "wi",
             "ha", "no", "se", "tu", "ra", "mi", "jo"]
MESSAGES = [
    "Kak, tagihan bulan ini kok dobel ya? Mohon dicek",
    "paket saya belum sampai, resinya JNE{n}",
    "Halo min, ada promo apa hari ini?",
    "gak bisa bayar pakai transfer bca, gimana ya",
    "mau retur sepatu ukuran 42, kebesaran",
    "Barang datang rusak, minta refund dong",
    "berapa ongkir ke Bekasi kak?",
    "Selamat pagi, saya mau tanya stok warna hitam masih ada?",
    "nomor tagihan INV-{n} belum masuk pembayarannya",
    "Tolong batalkan pesanan saya yg kemarin",
    "kak udah transfer ya, mohon dicek. makasih",
    "Apakah bisa cicilan 0% untuk kulkas?",
    "alamat pengiriman saya salah, bisa diganti?",
    "Terima kasih, pesanan sudah sampai dengan selamat",
    "Halooo kakkk",
    "voucher ongkir tidak bisa dipakai kenapa ya",
    "garansi servis berapa lama?",
    "mau komplain, kurir telat 3 hari",
]


def make_rules(n_rules: int, n_keywords: int, rng: random.Random) -> list[Rule]:
    modes = ["contains"] * 14 + ["whole_word"] * 3 + ["starts_with"] * 2 + ["exact"]
    rules = []
    for i in range(n_rules):
        words = [rng.choice(STEMS) + " " + "".join(rng.choices(SYLLABLES, k=3))
                 for _ in range(n_keywords - 1)] + [rng.choice(STEMS)]
        trigger = Trigger("keyword", tuple(words), rng.choice(modes))
        rules.append(Rule(i + 1, f"aturan {i + 1}", (trigger,),
                          (Action("reply_text", "Terima kasih, kami bantu."),),
                          stop=rng.random() < 0.8))
    for i in range(20):
        rules.append(Rule(n_rules + i + 1, f"pola {i}",
                          (Trigger("keyword", (rf"\bINV-\d{{{4 + i % 4}}}\b",), "regex"),),
                          (Action("note", "nomor tagihan"),)))
    return rules


def prepared(rules: list[Rule]) -> list[tuple[Rule, str, list[str]]]:
    """The baseline's keywords, normalised once (as any engine would keep them)."""
    return [(r, r.triggers[0].mode, [normalise(w) for w in r.triggers[0].words])
            for r in rules if r.triggers[0].mode != "regex"]


def unindexed(rules: list[tuple[Rule, str, list[str]]], text: str) -> list[int]:
    norm, fired = normalise(text), []
    padded = f" {norm} "
    for rule, mode, words in rules:
        for w in words:
            if {"contains": w in norm, "exact": w == norm, "starts_with": norm.startswith(w),
                    "whole_word": f" {w} " in padded}[mode]:
                fired.append(rule.id)
                break
        if fired and rule.stop and fired[-1] == rule.id:
            break
    return fired


def percentile(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--keywords", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    rng = random.Random(12)
    rules = make_rules(args.rules, args.keywords, rng)
    texts = [rng.choice(MESSAGES).format(n=rng.randrange(100_000, 999_999))
             for _ in range(args.messages)]
    print(f"# Auto Reply rules, {machine_facts()}; {load_note()}")
    started = time.perf_counter()
    compiled = RuleSet(rules)
    built = time.perf_counter() - started
    print(f"# {len(rules):,} rules, {sum(len(r.triggers[0].words) for r in rules):,} "
          f"keywords; compiled in {built:.2f} s")
    timings = []
    for text in texts:
        t0 = time.perf_counter_ns()
        compiled.evaluate(Incoming(text))
        timings.append((time.perf_counter_ns() - t0) / 1e6)
    base, flat = [], prepared(rules)
    for text in texts[:200]:
        t0 = time.perf_counter_ns()
        unindexed(flat, text)
        base.append((time.perf_counter_ns() - t0) / 1e6)
    print("what                                     p50 ms   p95 ms   p99 ms")
    for name, values in (("RuleSet (indexed, RE2 sets)", timings),
                         ("every keyword in order (200 messages)", base)):
        print(f"{name:<40} {statistics.median(values):7.3f}  {percentile(values, 0.95):7.3f}"
              f"  {percentile(values, 0.99):7.3f}")
    print(f"# p95 unindexed / indexed: {percentile(base, 0.95) / percentile(timings, 0.95):,.0f}x;"
          f" target p95 under 0.2 ms: {'met' if percentile(timings, 0.95) < 0.2 else 'NOT met'}")


if __name__ == "__main__":
    main()
