"""``python -m evals.classify_benchmark``: latency and accuracy of ``journey classify``.

Latency: warm milliseconds per case (one process, the playbook loaded once: what
``journey classify --jsonl`` does) against a cold process per case (``journey classify --json``
started for each case). Accuracy: stage and persona macro-F1 on the project's own development
examples below (German and English, with and without history, hard ones), per language and per
history/no-history, with confusion matrices. These examples were written for development; the
acceptance set is a separate, hidden one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
JOURNEY = str(Path(sys.executable).parent / "journey")


def tp(days_ago: float, channel: str, detail: str = "", type: str | None = None, kind: str | None = None,
       world: str = "online", line: str | None = None) -> dict[str, Any]:
    """A touchpoint ``days_ago`` before the reference date."""
    found = {"timestamp": (NOW - timedelta(days=days_ago)).isoformat(), "channel": channel, "world": world, "detail": detail}
    for key, value in (("type", type), ("kind", kind), ("product_line", line)):
        if value:
            found[key] = value
    return found


def say(*texts: str) -> list[dict[str, str]]:
    """A conversation: the person's messages, with a short assistant reply between them."""
    messages = []
    for index, text in enumerate(texts):
        if index:
            messages.append({"role": "assistant", "content": "Gern, dazu gleich mehr. / Sure, more on that in a moment."})
        messages.append({"role": "user", "content": text})
    return messages


CUSTOMER = [tp(200, "email", "Auftragsbestätigung / order confirmed", "order"), tp(180, "meeting", "Onboarding kickoff", "onboarding"),
            tp(60, "support", "Ticket: export question", "support_ticket")]
PROSPECT = [tp(30, "paid_search", "clicked ad", "ad_click", "paid"), tp(20, "web", "case study download", "download", "owned"),
            tp(10, "webinar", "attended webinar", "webinar_attended", "owned")]
NEGOTIATION = [tp(25, "web", "pricing page", "pricing_view"), tp(5, "email", "quote sent", "quote_email")]

# (stage, persona or None, language, input) – written for development, not from the evaluation set.
DEV_CASES: list[tuple[str, str | None, str, dict[str, Any]]] = [
    # awareness
    ("awareness", None, "en", {"messages": say("Hi! What does your company actually do?")}),
    ("awareness", None, "en", {"messages": say("Just browsing – saw your ad on LinkedIn. What is this?")}),
    ("awareness", None, "en", {"messages": say("Never heard of you before. Who are you guys?")}),
    ("awareness", "experience_seeker", "en", {"messages": say("A friend mentioned you. Do you have a short video that explains what you do?")}),
    ("awareness", None, "en", {"messages": say("what do you sell")}),
    ("awareness", None, "en", {"messages": say("Do you offer anything for warehouses? I'm new here.")},),
    ("awareness", "technical_expert", "en", {"messages": say("First time here. What is an IoT edge gateway, in simple terms?"), "job_title": "Maintenance Engineer"}),
    ("awareness", None, "en", {"messages": say("hello"), "touchpoints": [tp(0, "paid_search", "first visit via Google Ads", "ad_click", "paid")]}),
    ("awareness", "budget_owner", "en", {"messages": say("I came across your blog post. In a nutshell, what do you offer?"), "job_title": "CFO"}),
    ("awareness", None, "en", {"messages": say("tell me more about you"), "touchpoints": [tp(1, "organic_social", "read blog article", "blog_read")]}),
    ("awareness", None, "de", {"messages": say("Hallo, was macht ihr eigentlich genau?")}),
    ("awareness", None, "de", {"messages": say("Bin über eine Anzeige auf euch gestoßen. Was bietet ihr an?")}),
    ("awareness", None, "de", {"messages": say("Noch nie von euch gehört – wer seid ihr?")}),
    ("awareness", "experience_seeker", "de", {"messages": say("Ein Kollege hat euch empfohlen. Gibt es ein Video, das kurz zeigt, was ihr macht?")}),
    ("awareness", None, "de", {"messages": say("Was ist eine Edge-Box überhaupt?")}),
    ("awareness", None, "de", {"messages": say("Ich schaue mich nur mal um.")}),
    ("awareness", "budget_owner", "de", {"messages": say("Können Sie mir kurz erklären, was Ihr Unternehmen macht?"), "job_title": "Geschäftsführer"}),
    ("awareness", None, "de", {"messages": say("Hallo"), "touchpoints": [tp(0, "paid_social", "Anzeige geklickt", "ad_click", "paid")]}),
    ("awareness", None, "de", {"messages": say("was genau verkauft ihr")}),
    ("awareness", "technical_expert", "de", {"messages": say("Zum ersten Mal hier. Was für Lösungen habt ihr?"), "job_title": "Softwarearchitekt", "department": "IT"}),
    ("awareness", None, "de", {"messages": [], "touchpoints": [tp(0, "organic_search", "Erster Besuch: Blogartikel", "first_visit")]}),
    # consideration
    ("consideration", "technical_expert", "en", {"messages": say("Does your platform integrate with SAP S/4HANA, and is there a REST API?")}),
    ("consideration", "skeptic", "en", {"messages": say("Can you share case studies or references from companies like ours? I want to see proof.")}),
    ("consideration", None, "en", {"messages": say("How do you compare to Siemens MindSphere?")}),
    ("consideration", "experience_seeker", "en", {"messages": say("Could I see a live demo of the dashboard? Sounds exciting!")}),
    ("consideration", "skeptic", "en", {"messages": say("Are you GDPR compliant and ISO 27001 certified? Where is the data stored?")}),
    ("consideration", "technical_expert", "en", {"messages": say("What protocols does the gateway support? OPC UA, Modbus?"), "job_title": "Automation Engineer"}),
    ("consideration", "influencer", "en", {"messages": say("I'm evaluating options and need to convince my boss. Do you have a one-pager?")}),
    ("consideration", None, "en", {"messages": say("Is it suitable for a mid-sized plant with 40 machines?")}),
    ("consideration", "technical_expert", "en", {"messages": say("integartion with our ERP possible?"), "department": "IT"}),
    ("consideration", None, "en", {"messages": say("alternatives?"), "touchpoints": PROSPECT}),
    ("consideration", None, "en", {"messages": say("thanks, that helps"), "touchpoints": PROSPECT}),
    ("consideration", "skeptic", "en", {"messages": say("What do your customers say? Any reviews on G2?"), "job_title": "Quality Manager"}),
    ("consideration", "experience_seeker", "en", {"messages": say("Will you be at Hannover Messe? I'd love to see it at the booth.")}),
    ("consideration", None, "en", {"messages": say("Hi"), "touchpoints": PROSPECT, "deal_stage": "Qualification"}),
    ("consideration", "technical_expert", "de", {"messages": say("Gibt es eine Schnittstelle zu SAP EWM und welche Rate Limits hat die API?")}),
    ("consideration", "skeptic", "de", {"messages": say("Habt ihr Referenzkunden aus dem Maschinenbau? Und welche Zertifizierungen?")}),
    ("consideration", None, "de", {"messages": say("Wie unterscheidet ihr euch von der Konkurrenz?")}),
    ("consideration", "experience_seeker", "de", {"messages": say("Kann ich das irgendwo live sehen? Eine Vorführung wäre super.")}),
    ("consideration", "skeptic", "de", {"messages": say("Wo werden die Daten gespeichert? Unser Datenschutzbeauftragter hat Bedenken wegen DSGVO.")}),
    ("consideration", "influencer", "de", {"messages": say("Ich soll das bei uns vorstellen, entscheiden muss aber mein Chef. Habt ihr eine Entscheidungsvorlage?")}),
    ("consideration", None, "de", {"messages": say("Passt das für unser Lager mit 3 Hallen?")}),
    ("consideration", "technical_expert", "de", {"messages": say("Funktioniert das mit Siemens S7-1500 Steuerungen?"), "job_title": "Automatisierungsingenieurin"}),
    ("consideration", None, "de", {"messages": say("Demo?")}),
    ("consideration", None, "de", {"messages": say("ok danke"), "touchpoints": [tp(15, "web", "Fallstudie heruntergeladen", "download"), tp(3, "webinar", "Webinar besucht", "webinar_attended")]}),
    ("consideration", "skeptic", "de", {"messages": say("Gibt es unabhängige Testberichte oder Bewertungen?")}),
    ("consideration", None, "de", {"messages": say("Wir überlegen, ob wir ein Ortungssystem einführen. Welche Varianten gibt es?")}),
    ("consideration", "technical_expert", "de", {"messages": say("Kann man das on premise betreiben oder nur in der Cloud?"), "job_title": "IT-Leiter"}),
    # purchase
    ("purchase", "budget_owner", "en", {"messages": say("Can you send me a quote for 60 gateways? And is there a volume discount?")}),
    ("purchase", "budget_owner", "en", {"messages": say("What are your payment terms and the minimum contract term?")}),
    ("purchase", "budget_owner", "en", {"messages": say("We're ready to sign. Please send the contract."), "job_title": "Managing Director"}),
    ("purchase", "budget_owner", "en", {"messages": say("pricing?"), "job_title": "Head of Procurement"}),
    ("purchase", "budget_owner", "en", {"messages": say("How much does it cots per user per month?")}),
    ("purchase", "influencer", "en", {"messages": say("Our procurement team asks for your licence terms – I need to forward them to my manager.")}),
    ("purchase", None, "en", {"messages": say("Our trial ends next week. How do we convert the trial to paid?")}),
    ("purchase", "budget_owner", "en", {"messages": say("What's the ROI and payback period if we buy 800 tags?"), "job_title": "CFO"}),
    ("purchase", None, "en", {"messages": say("Can we pay by invoice? We need a purchase order number first.")}),
    ("purchase", "budget_owner", "en", {"messages": say("ok"), "touchpoints": NEGOTIATION, "deal_stage": "Negotiation/Review"}),
    ("purchase", "budget_owner", "en", {"messages": say("If we sign this quarter, can you do 15% off?")}),
    ("purchase", "budget_owner", "en", {"messages": say("Send me the price list pls")}),
    ("purchase", "budget_owner", "de", {"messages": say("Was kostet das für 800 Ladungsträger und gibt es Rabatt bei 36 Monaten Laufzeit?")}),
    ("purchase", None, "de", {"messages": say("Bitte schicken Sie mir ein Angebot über 20 Lizenzen.")}),
    ("purchase", "budget_owner", "de", {"messages": say("Welches Zahlungsziel bietet ihr an?"), "job_title": "Kaufmännischer Leiter"}),
    ("purchase", "budget_owner", "de", {"messages": say("Preise?")}),
    ("purchase", "influencer", "de", {"messages": say("Unser Einkauf fragt nach Vertragslaufzeit und Kündigungsfrist."), "job_title": "Projektreferent"}),
    ("purchase", None, "de", {"messages": say("Wir möchten bestellen. Wie geht es weiter?")}),
    ("purchase", "budget_owner", "de", {"messages": say("Wann amortisiert sich die Investition? Das Budget ist freigegeben."), "job_title": "Werkleiter"}),
    ("purchase", "budget_owner", "de", {"messages": say("hallo"), "touchpoints": NEGOTIATION, "deal_stage": "Verhandlung"}),
    ("purchase", None, "de", {"messages": say("Können wir den Vertrag bis Freitag unterschreiben?")}),
    ("purchase", "budget_owner", "de", {"messages": say("Wir brauchen ein quote für 20 seats, und was ist mit discount?")}),
    ("purchase", "budget_owner", "de", {"messages": say("Wie teuer ist die Enterprise-Variante?")}),
    ("purchase", None, "de", {"messages": say("Der Test lief gut. Wie kommen wir zur Vollversion?")}),
    # retention
    ("retention", None, "en", {"messages": say("How do I reset my password?")}),
    ("retention", "technical_expert", "en", {"messages": say("Since the firmware update our gateway keeps losing the MQTT connection.")}),
    ("retention", None, "en", {"messages": say("Our last invoice is wrong – we were charged twice.")}),
    ("retention", None, "en", {"messages": say("How can I add a new user to our account?")}),
    ("retention", None, "en", {"messages": say("Great, the dashboard crashed again. Just what I needed.")}),
    ("retention", None, "en", {"messages": say("The export doesn't work anymore.")}),
    ("retention", None, "en", {"messages": say("help"), "touchpoints": CUSTOMER, "customer_status": "customer"}),
    ("retention", None, "en", {"messages": say("When is our renewal due?")}),
    ("retention", "technical_expert", "en", {"messages": say("Where do I find the API key in the settings?"), "job_title": "Software Developer"}),
    ("retention", None, "en", {"messages": say("We've been using TrackCloud for a year. Can we schedule a training for new staff?")}),
    ("retention", None, "en", {"messages": [], "touchpoints": CUSTOMER + [tp(1, "support", "ticket opened: sync error", "support_ticket")]}),
    ("retention", None, "en", {"messages": say("login not working!!")}),
    ("retention", None, "de", {"messages": say("Wie kann ich 300 neue Tags auf einmal zuordnen?")}),
    ("retention", "technical_expert", "de", {"messages": say("Seit dem Update verliert die EdgeBox ständig die Verbindung."), "job_title": "Systemadministrator"}),
    ("retention", None, "de", {"messages": say("Unsere Rechnung stimmt nicht, bitte korrigieren.")}),
    ("retention", None, "de", {"messages": say("Das Dashboard funktioniert nicht mehr.")}),
    ("retention", None, "de", {"messages": say("Na toll, schon wieder ein Absturz. Super Produkt.")}),
    ("retention", None, "de", {"messages": say("Wie richte ich einen neuen Benutzer ein?")}),
    ("retention", None, "de", {"messages": say("Hilfe"), "touchpoints": CUSTOMER, "customer_status": "Kunde"}),
    ("retention", None, "de", {"messages": say("Wann läuft unsere Lizenz ab und wie verlängern wir?")}),
    ("retention", None, "de", {"messages": say("Wir nutzen Insight seit einem Jahr. Gibt es eine Schulung für neue Kollegen?")}),
    ("retention", None, "de", {"messages": say("Fehlermeldung 503 beim Export")}),
    ("retention", None, "de", {"messages": [], "touchpoints": CUSTOMER, "deal_stage": "Gewonnen"}),
    ("retention", None, "de", {"messages": say("Wo finde ich das Handbuch für die Kalibrierung?")}),
    # advocacy
    ("advocacy", None, "en", {"messages": say("We love the product – happy to be a reference for other customers!")}),
    ("advocacy", None, "en", {"messages": say("I recommended you to a colleague at another company. Do you have a referral programme?")}),
    ("advocacy", None, "en", {"messages": say("Where can I leave a review? You deserve 5 stars.")}),
    ("advocacy", None, "en", {"messages": say("Would you like us to be part of a case study? Our results are great.")}),
    ("advocacy", "experience_seeker", "en", {"messages": say("I'd love to speak at your user conference about our project!")}),
    ("advocacy", None, "en", {"messages": say("A business partner of ours is also interested – can I introduce you?")}),
    ("advocacy", None, "en", {"messages": say("thanks!"), "touchpoints": CUSTOMER + [tp(2, "review_site", "wrote a review on G2: 5 stars", "review_posted", "earned")]}),
    ("advocacy", None, "en", {"messages": [], "touchpoints": CUSTOMER + [tp(3, "email", "NPS survey answered: 10", "nps_survey")], "customer_status": "customer"}),
    ("advocacy", None, "en", {"messages": say("Is there a community forum where I can share tips with other users?")}),
    ("advocacy", None, "en", {"messages": say("referral bonus?"), "customer_status": "customer"}),
    ("advocacy", None, "de", {"messages": say("Wir sind sehr zufrieden und würden euch gern weiterempfehlen.")}),
    ("advocacy", None, "de", {"messages": say("Gibt es ein Empfehlungsprogramm? Ein Bekannter sucht genau so etwas.")}),
    ("advocacy", None, "de", {"messages": say("Wo kann ich eine Bewertung abgeben?")}),
    ("advocacy", None, "de", {"messages": say("Gern stehen wir als Referenzkunde zur Verfügung.")}),
    ("advocacy", "experience_seeker", "de", {"messages": say("Ich würde auf eurem Anwendertag gern einen Vortrag über unser Projekt halten!")}),
    ("advocacy", None, "de", {"messages": say("Habe euch einem Geschäftspartner empfohlen, er meldet sich.")}),
    ("advocacy", None, "de", {"messages": say("danke"), "touchpoints": CUSTOMER + [tp(4, "review_site", "Bewertung geschrieben: 5 Sterne", "review_posted", "earned")]}),
    ("advocacy", None, "de", {"messages": say("Für eure Fallstudie machen wir gern mit."), "customer_status": "Kunde"}),
    # history pointing one way, the message another
    ("consideration", "technical_expert", "en", {"messages": say("We use EdgeBox already. Does Insight integrate with our MES, and how does it compare to Tulip?"),
                                                "touchpoints": CUSTOMER, "customer_status": "customer", "product_line": "insight", "customer_product_lines": ["edgebox"]}),
    ("consideration", None, "de", {"messages": say("Wir haben schon die EdgeBox. Was kann eigentlich TrackCloud?"),
                                   "touchpoints": CUSTOMER, "customer_status": "Kunde", "product_line": "trackcloud", "customer_product_lines": ["edgebox"]}),
    ("purchase", "budget_owner", "en", {"messages": say("Let's talk pricing for the Insight add-on."), "touchpoints": CUSTOMER, "customer_status": "customer"}),
    ("retention", None, "en", {"messages": say("The login doesn't work"), "touchpoints": PROSPECT + [tp(1, "email", "contract signed", "contract")], "deal_stage": "Closed Won"}),
    ("purchase", "budget_owner", "de", {"messages": say("Was kostet es?"), "touchpoints": PROSPECT}),
    ("consideration", None, "en", {"messages": say("Actually, before we renew, we're comparing you with two alternatives."), "touchpoints": CUSTOMER, "customer_status": "customer"}),
    ("purchase", "budget_owner", "en", {"messages": say("What does it cost?", "And the discount for 3 years?"), "touchpoints": PROSPECT}),
    ("consideration", None, "de", {"messages": say("Was macht ihr?", "Und funktioniert das mit SAP?")}),
    ("retention", "budget_owner", "en", {"messages": say("How much is the price?", "ok, got it. Now the app crashes on login, can you fix it?"), "customer_status": "customer"}),
    # personas from titles and content only
    ("consideration", "budget_owner", "de", {"messages": say("Habt ihr eine Fallstudie?"), "job_title": "Leiterin Einkauf", "department": "Einkauf"}),
    ("consideration", "influencer", "de", {"messages": say("Welche Funktionen hat das?"), "job_title": "Assistenz der Geschäftsführung"}),
    ("consideration", "skeptic", "en", {"messages": say("Which features does it have?"), "job_title": "Data Protection Officer", "department": "Legal"}),
    ("consideration", "experience_seeker", "en", {"messages": say("Can it track forklifts?"), "job_title": "Head of Marketing"}),
    ("consideration", "influencer", "en", {"messages": say("Do you support multiple sites?"), "job_title": "Project Coordinator"}),
    ("retention", "budget_owner", "en", {"messages": say("Where's our invoice?"), "job_title": "CFO", "department": "Finance"}),
    ("consideration", "skeptic", "de", {"messages": [], "touchpoints": [tp(10, "review_site", "Bewertungen gelesen", "review_site_visit"), tp(2, "web", "Sicherheitsseite und Zertifikate", "download")]}),
    ("consideration", "experience_seeker", "en", {"messages": [], "touchpoints": [tp(8, "youtube", "watched product video", "video"), tp(2, "event", "visited our booth at LogiMAT", "trade_fair", world="offline")]}),
]


def _macro_f1(pairs: list[tuple[Any, Any]]) -> float:
    labels = {gold for gold, _ in pairs}
    scores = []
    for label in labels:
        tp_ = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp_ / (tp_ + fp) if tp_ + fp else 0.0
        recall = tp_ / (tp_ + fn) if tp_ + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def _report(name: str, pairs: list[tuple[Any, Any]]) -> str:
    accuracy = sum(1 for g, p in pairs if g == p) / len(pairs) if pairs else 0.0
    return f"{name:<28} n={len(pairs):<4} accuracy={accuracy:.3f} macro-F1={_macro_f1(pairs):.3f}"


def _confusion(pairs: list[tuple[Any, Any]]) -> str:
    labels = sorted({str(g) for g, _ in pairs} | {str(p) for _, p in pairs})
    counts = Counter((str(g), str(p)) for g, p in pairs)
    width = max(len(label) for label in labels) + 1
    lines = ["gold \\ predicted".ljust(width) + " ".join(label[:7].rjust(7) for label in labels)]
    lines += [gold.ljust(width) + " ".join(str(counts[(gold, p)]).rjust(7) for p in labels) for gold in labels]
    return "\n".join(lines)


def evaluate(classifier: Any, cases: list[tuple[str, str | None, str, dict[str, Any]]], show_errors: bool = False) -> dict[str, Any]:
    groups: dict[str, list[tuple[tuple[Any, Any], tuple[Any, Any]]]] = defaultdict(list)
    timings = []
    for stage, persona, language, data in cases:
        started = time.perf_counter()
        result = classifier.classify_data(data)
        timings.append((time.perf_counter() - started) * 1000)
        history = "with history" if any(data.get(k) for k in ("touchpoints", "deal_stage", "customer_status")) else "no history"
        pair = ((stage, result["stage"]), (persona, result["persona"]))
        for key in ("all", language, history):
            groups[key].append(pair)
        if show_errors and (stage != result["stage"] or persona != result["persona"]):
            said = " | ".join(m["content"] for m in data.get("messages", []) if m["role"] == "user")[:90]
            print(f"  gold {stage}/{persona} got {result['stage']}/{result['persona']}: {said!r} {data.get('job_title') or ''}")
    return {"groups": groups, "timings": timings}


def _warm_latency(classifier: Any, cases: list[dict[str, Any]], rounds: int) -> list[float]:
    """Milliseconds per case in a warm process; the semantic model's vector cache is emptied
    before each case, so every message is embedded as if it had never been seen."""
    classifier.classify_data({"messages": [{"role": "user", "content": "warm-up: what does it cost?"}]})
    times = []
    for _ in range(rounds):
        for data in cases:
            if classifier.semantic is not None:
                classifier.semantic.forget()
            started = time.perf_counter()
            classifier.classify_data(data)
            times.append((time.perf_counter() - started) * 1000)
    return times


def _cold_latency(cases: list[dict[str, Any]], samples: int) -> list[float]:
    times = []
    for data in cases[:samples]:
        started = time.perf_counter()
        subprocess.run([JOURNEY, "classify", "--json"], input=json.dumps(data), capture_output=True, text=True, check=True)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _jsonl_latency(cases: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    subprocess.run([JOURNEY, "classify", "--jsonl"], input="\n".join(json.dumps(c) for c in cases), capture_output=True,
                   text=True, check=True)
    return (time.perf_counter() - started) * 1000


def _summary(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"{name:<36} n={len(times):<5} mean={statistics.mean(times):7.2f} ms  p50={statistics.median(times):7.2f} ms  p95={p95:7.2f} ms  max={max(times):7.2f} ms"


def run(playbook: Path | None, cold_samples: int, rounds: int, show_errors: bool) -> None:
    from assistant.journey import JourneyClassifier

    started = time.perf_counter()
    classifier = JourneyClassifier.from_path(playbook)
    print(f"playbook loaded and cues compiled in {(time.perf_counter() - started) * 1000:.0f} ms")
    outcome = evaluate(classifier, DEV_CASES, show_errors)
    for key in ("all", "de", "en", "no history", "with history"):
        pairs = outcome["groups"][key]
        print(_report(f"stage   {key}", [p[0] for p in pairs]))
        print(_report(f"persona {key}", [p[1] for p in pairs]))
    print("\nstage confusion\n" + _confusion([p[0] for p in outcome["groups"]["all"]]))
    print("\npersona confusion\n" + _confusion([p[1] for p in outcome["groups"]["all"]]))
    inputs = [case[3] for case in DEV_CASES]
    long_chat = {"messages": [{"role": "user" if i % 2 == 0 else "assistant", "content": f"Frage {i}: wie funktioniert der Export?"}
                              for i in range(200)], "touchpoints": CUSTOMER * 20}
    print()
    print(_summary("warm, in process (as --jsonl)", _warm_latency(classifier, inputs, rounds)))
    print(_summary("warm, 200 messages + 60 touchpoints", _warm_latency(classifier, [long_chat], 20)))
    if cold_samples:
        whole = _jsonl_latency(inputs)
        print(f"{'journey classify --jsonl, whole process':<36} n={len(inputs):<5} total={whole:7.0f} ms  per case={whole / len(inputs):7.2f} ms")
        print(_summary("cold process per case (--json)", _cold_latency(inputs, cold_samples)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--playbook", type=Path, default=None, help="A company playbook (default: the shipped one).")
    parser.add_argument("--cold", type=int, default=10, help="Cases timed as a cold process each (0: skip).")
    parser.add_argument("--rounds", type=int, default=5, help="Warm timing rounds over all cases.")
    parser.add_argument("--errors", action="store_true", help="Print the misclassified development cases.")
    args = parser.parse_args(argv)
    run(args.playbook, args.cold, args.rounds, args.errors)


if __name__ == "__main__":
    main()
