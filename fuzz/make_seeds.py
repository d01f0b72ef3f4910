#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets into corpus/<target>/ from real material: SMTP
sessions as Postfix, Exim, OpenSMTPD and swaks conduct them, the NO STARTTLS situations, the
STARTTLS command and response injections, the SMTP smuggling sequences of prior-art.md, the
project's channel tables and scenarios, and transcripts of those scenarios.

Usage: /usr/bin/python3 fuzz/make_seeds.py [--tlschan build/bin/tlschan]
With --tlschan, transcripts of corpus/scenarios/*.toml are made with `tlschan run --transcript`
(without it, the transcript seeds already in corpus/transcript_fuzzer/ are kept). The seeds are
committed; run this again after changing it or an input format (session_input.hpp,
transition_input.hpp) and commit the result.
"""

import argparse
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEP = b"\xfe\xff"  # session_input.hpp: chunk_separator

CRLF = b"\r\n"


def lines(*ls):
    return b"".join(l.encode("latin-1") + CRLF for l in ls)


class Folder:
    """One seed folder, rewritten from scratch; a seed's name says what it is."""

    def __init__(self, name):
        self.path = CORPUS / name
        if self.path.exists():
            for f in self.path.iterdir():
                if f.is_file() and not f.name.startswith("."):
                    f.unlink()
        self.path.mkdir(parents=True, exist_ok=True)
        self.names = set()

    def add(self, name, data):
        assert name not in self.names, name
        self.names.add(name)
        (self.path / name).write_bytes(data)

    def copy(self, name, source):
        self.add(name, pathlib.Path(source).read_bytes())


# ---- real SMTP material ------------------------------------------------------------------------

MESSAGE = lines(
    "Received: from client.example.org (client.example.org [192.0.2.10])",
    "\tby mx.example.net (Postfix) with ESMTPS id 4Q1x2y3z",
    "From: Alice <alice@example.org>",
    "To: Bob <bob@example.net>",
    "Subject: quarterly report",
    "Date: Sat, 28 Nov 2026 20:00:00 +0000",
    "Message-ID: <20261128200000.1234@client.example.org>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Hello Bob,",
    ".a line that starts with a dot (stuffed on the wire)",
    "..two dots",
    ".",  # would end the data if it were not stuffed
    "Regards, Alice",
)


def stuff(body):
    out = bytearray()
    start = True
    i = 0
    while i < len(body):
        c = body[i:i + 1]
        if start and c == b".":
            out += b"."
        out += c
        start = c == b"\n" and i > 0 and body[i - 1:i] == b"\r"
        i += 1
    return bytes(out)


STUFFED = stuff(MESSAGE) + b".\r\n"

# prior-art.md: end-of-data look-alikes that one hop accepts and another does not.
SMUGGLING = {
    "lf-dot-lf": b"\n.\n",
    "cr-dot-cr": b"\r.\r",
    "cr-dot-lf": b"\r.\n",
    "lf-dot-cr": b"\n.\r",
    "lf-dot-crlf": b"\n.\r\n",
    "crlf-dot-lf": b"\r\n.\n",
    "cr-dot-crlf": b"\r.\r\n",
    "crlf-dot-cr": b"\r\n.\r",
    "crlf-nul-dot-crlf": b"\r\n\x00.\r\n",
    "crlf-dot-nul-crlf": b"\r\n.\x00\r\n",
}
SMUGGLED_TRANSACTION = lines("MAIL FROM:<admin@example.org>", "RCPT TO:<victim@example.net>", "DATA",
                             "From: admin@example.org", "Subject: smuggled", "", "pay now")


def smuggling_body(seq):
    return b"Subject: smuggling test\r\n\r\nfirst part" + seq + SMUGGLED_TRANSACTION + b"\r\n.\r\n"


# Client sessions (what a server reads).
POSTFIX_CLIENT = [lines("EHLO client.example.org"), lines("MAIL FROM:<alice@example.org> SIZE=%d BODY=8BITMIME" % len(MESSAGE)),
                  lines("RCPT TO:<bob@example.net>"), lines("RCPT TO:<carol@example.net>"), lines("DATA"), STUFFED,
                  lines("QUIT")]
SWAKS_PIPELINED = [lines("EHLO swaks.example"),
                   lines("MAIL FROM:<swaks@swaks.example>", "RCPT TO:<bob@example.net>", "DATA"),
                   lines("Date: Sat, 28 Nov 2026 20:00:00 +0000", "To: bob@example.net", "From: swaks@swaks.example",
                         "Subject: test Sat, 28 Nov 2026 20:00:00 +0000", "X-Mailer: swaks v20201014.0", "",
                         "This is a test mailing", "", "."),
                   lines("QUIT")]
EXIM_CLIENT = [lines("EHLO exim.example.org"), lines("MAIL FROM:<> SIZE=1024"), lines("RCPT TO:<postmaster@example.net>"),
               lines("DATA"), lines("Subject: bounce", "", "delivery failed", "."), lines("QUIT")]
HELO_CLIENT = [lines("HELO old.example"), lines("MAIL FROM:<old@old.example>"), lines("RCPT TO:<bob@example.net>"),
               lines("DATA"), lines("Subject: helo", "", "hi", "."), lines("RSET"), lines("NOOP"), lines("QUIT")]
PROBE_CLIENT = [lines("EHLO scanner.example"), lines("VRFY root"), lines("EXPN staff"), lines("HELP"), lines("HELP MAIL"),
                lines("NOOP extra"), lines("RSET now"), lines("QUIT")]
ERROR_CLIENT = [lines("EHLO"), lines("HELO"), lines("MAIL TO:<x@y>"), lines("MAIL FROM:<a@b> SIZE=99999999999"),
                lines("MAIL FROM:<a@b> FOO=BAR"), lines("MAIL FROM:<a@b> BODY=9BIT"), lines("RCPT TO:<c@d>"), lines("DATA now"),
                lines("DATA"), lines("XYZZY"), lines("mail from:<a@b>"), lines("QUIT now"), lines("QUIT")]
TOO_MANY_ERRORS = [lines(*["XYZZY %d" % i for i in range(22)]), lines("NOOP")]
BAD_LINES = [lines("EHLO x"), b"NOOP\n", b"NOOP\x00\r\n", b"NO\rOP\r\n", b"NOOP " + b"x" * 505 + b"\r\n",
             b"NOOP " + b"x" * 506 + b"\r\n", b"NOOP " + b"x" * 2000 + b"\r\n", lines("QUIT")]
SPLIT_LINES = [b"EH", b"LO split.example\r", b"\nMAIL FROM:<a@b>", b"\r\nRCPT TO:<c@d>\r\nDA", b"TA\r\n", b"Sub", b"ject: s\r\n\r\n.", b".x\r\n.\r", b"\n", b"QUIT\r\n"]
BIG_MESSAGE = [lines("EHLO big.example"), lines("MAIL FROM:<a@b>"), lines("RCPT TO:<c@d>"), lines("DATA"),
               b"Subject: big\r\n\r\n" + (b"y" * 998 + b"\r\n") * 3 + b"z" * 1000 + b"\r\n.\r\n", lines("QUIT")]
MALFORMED_MESSAGE = [lines("EHLO m.example"), lines("MAIL FROM:<a@b>"), lines("RCPT TO:<c@d>"), lines("DATA"),
                     b"Subject: bare\r\n\r\nline\nbare lf\r\nnul\x00\r\ncr\rx\r\n.\r\n", lines("QUIT")]
MANY_RCPTS = [lines("EHLO r.example"), lines("MAIL FROM:<a@b>"), lines(*["RCPT TO:<r%d@example.net>" % i for i in range(40)]),
              lines("DATA"), lines("Subject: many", "", "x", "."), lines("QUIT")]
NULL_SENDER_ROUTE = [lines("EHLO r.example"), lines("MAIL FROM:<@relay.example:a@b>"), lines("RCPT TO:<postmaster>"),
                     lines("RCPT TO:<\"quoted local\"@example.net>"), lines("RCPT TO:<bob@[192.0.2.1]>"),
                     lines("RCPT TO:bob@example.net"), lines("RCPT TO:<>"), lines("QUIT")]


def smuggling_session(seq):
    return [lines("EHLO smuggler.example"), lines("MAIL FROM:<a@smuggler.example>"), lines("RCPT TO:<b@example.net>"),
            lines("DATA"), smuggling_body(seq), lines("QUIT")]


PLAIN_SESSIONS = {
    "postfix-client": POSTFIX_CLIENT,
    "swaks-pipelined": SWAKS_PIPELINED,
    "exim-null-sender": EXIM_CLIENT,
    "helo-rset-noop": HELO_CLIENT,
    "vrfy-expn-help": PROBE_CLIENT,
    "syntax-errors": ERROR_CLIENT,
    "error-limit": TOO_MANY_ERRORS,
    "bad-lines": BAD_LINES,
    "split-anywhere": SPLIT_LINES,
    "long-lines": BIG_MESSAGE,
    "malformed-message": MALFORMED_MESSAGE,
    "many-recipients": MANY_RCPTS,
    "path-forms": NULL_SENDER_ROUTE,
    "one-segment": [b"".join(POSTFIX_CLIENT)],
    "byte-segments": [bytes([b]) for b in lines("EHLO b.example", "MAIL FROM:<a@b>", "QUIT")],
}
for name, seq in SMUGGLING.items():
    PLAIN_SESSIONS["smuggling-" + name] = smuggling_session(seq)

TLS_TRANSACTION = [lines("EHLO client.example.org"), lines("MAIL FROM:<alice@example.org>"), lines("RCPT TO:<bob@example.net>"),
                   lines("DATA"), STUFFED, lines("QUIT")]
STARTTLS_SESSIONS = {
    # RFC 3207 as every MTA does it.
    "starttls-then-deliver": [lines("EHLO client.example.org"), lines("STARTTLS")] + TLS_TRANSACTION,
    "starttls-before-ehlo": [lines("STARTTLS")] + TLS_TRANSACTION,
    "starttls-mail-before-ehlo": [lines("EHLO c.example"), lines("STARTTLS"), lines("MAIL FROM:<a@b>"), lines("EHLO c.example"),
                                  lines("MAIL FROM:<a@b>"), lines("QUIT")],
    # CVE-2011-0411 and its relatives: commands pipelined behind STARTTLS in one write.
    "injection-noop": [lines("EHLO c.example"), lines("STARTTLS", "NOOP")] + TLS_TRANSACTION,
    "injection-ehlo": [lines("EHLO c.example"), lines("STARTTLS", "EHLO injected.example")] + TLS_TRANSACTION,
    "injection-transaction": [lines("EHLO attacker.example"),
                              lines("STARTTLS", "MAIL FROM:<a@attacker.example>", "RCPT TO:<victim@example.net>", "DATA") +
                              b"Subject: injected\r\n\r\nx\r\n.\r\n"] + TLS_TRANSACTION,
    "injection-partial-line": [lines("EHLO c.example"), lines("STARTTLS") + b"MAIL FROM:<a@b>"] + TLS_TRANSACTION,
    "pipelined-starttls": [lines("EHLO c.example", "STARTTLS")] + TLS_TRANSACTION,
    "starttls-argument": [lines("EHLO c.example"), lines("STARTTLS now"), lines("STARTTLS")] + TLS_TRANSACTION,
    "starttls-twice": [lines("EHLO c.example"), lines("STARTTLS"), lines("EHLO c.example"), lines("STARTTLS"),
                       lines("STARTTLS x"), lines("QUIT")],
    "starttls-lowercase": [lines("EHLO c.example"), lines("starttls"), lines("EHLO c.example"), lines("QUIT")],
    "starttls-in-data": [lines("EHLO c.example"), lines("MAIL FROM:<a@b>"), lines("RCPT TO:<c@d>"), lines("DATA"),
                         lines("STARTTLS", "."), lines("QUIT")],
    "starttls-then-smuggling": [lines("EHLO c.example"), lines("STARTTLS")] + smuggling_session(b"\n.\n"),
    "starttls-then-errors": [lines("EHLO c.example"), lines("STARTTLS")] + ERROR_CLIENT,
}

# Server replies (what a client reads).
POSTFIX_EHLO = lines("250-mx.example.net", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY", "250-ETRN", "250-STARTTLS",
                     "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN", "250-SMTPUTF8", "250 CHUNKING")
POSTFIX_EHLO_TLS = lines("250-mx.example.net", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY", "250-ETRN",
                         "250-AUTH PLAIN LOGIN", "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN", "250-SMTPUTF8",
                         "250 CHUNKING")
EXIM_EHLO = lines("250-mail.example.com Hello client.example.org [192.0.2.10]", "250-SIZE 52428800", "250-8BITMIME",
                  "250-PIPELINING", "250-PIPE_CONNECT", "250-CHUNKING", "250-STARTTLS", "250-PRDR", "250 HELP")
OPENSMTPD_EHLO = lines("250-smtpd.example Hello client.example.org [192.0.2.10], pleased to meet you", "250-8BITMIME",
                       "250-ENHANCEDSTATUSCODES", "250-SIZE 36700160", "250-DSN", "250-STARTTLS", "250 HELP")
NO_STARTTLS_EHLO = lines("250-mx.example.net", "250-PIPELINING", "250-SIZE 10240000", "250 8BITMIME")
REPLIES = {
    "postfix-greeting": lines("220 mx.example.net ESMTP Postfix (Debian/GNU)"),
    "exim-greeting": lines("220 mail.example.com ESMTP Exim 4.96 Sat, 28 Nov 2026 20:00:00 +0000"),
    "opensmtpd-greeting": lines("220 smtpd.example ESMTP OpenSMTPD"),
    "multiline-greeting": lines("220-mx.example.net ESMTP", "220-No UCE", "220 ready"),
    "postfix-ehlo": POSTFIX_EHLO,
    "postfix-ehlo-after-tls": POSTFIX_EHLO_TLS,
    "exim-ehlo": EXIM_EHLO,
    "opensmtpd-ehlo": OPENSMTPD_EHLO,
    "ehlo-without-starttls": NO_STARTTLS_EHLO,
    "ehlo-lowercase-keywords": lines("250-mx", "250-starttls", "250-size 1000", "250-8bitmime", "250 pipelining"),
    "ehlo-size-forms": lines("250-mx", "250-SIZE", "250-SIZE 0", "250-SIZE 99999999999999999999999", "250-SIZE -1",
                             "250 SIZE 12a"),
    "ready-to-start-tls": lines("220 2.0.0 Ready to start TLS"),
    "tls-unavailable": lines("454 4.7.0 TLS not available due to local problem"),
    "starttls-not-implemented": lines("502 5.5.1 Error: command not implemented"),
    "starttls-nonsense-354": lines("354 End data with <CR><LF>.<CR><LF>"),
    "starttls-syntax": lines("501 5.5.4 Syntax: STARTTLS"),
    "response-injection": lines("220 2.0.0 Ready to start TLS", "250-fake.example", "250 AUTH PLAIN"),
    "must-starttls": lines("530 5.7.0 Must issue a STARTTLS command first"),
    "transaction": lines("250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
                         "250 2.0.0 Ok: queued as 4Q1x2y3z", "221 2.0.0 Bye"),
    "errors": lines("421 4.3.2 Service shutting down", "450 4.2.0 <bob@example.net>: Recipient address rejected: Greylisted",
                    "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown",
                    "552 5.3.4 Message size exceeds fixed limit", "554 5.7.1 Rejected"),
    "enhanced-forms": lines("250 2.0.0", "250 2.00.000 three digits", "250 5.0.0 class mismatch", "250 2.0.0x", "250 2.0",
                            "451 4.7.1 x", "250 Ok"),
    "lf-only": b"220 mx ESMTP\n250-mx\n250 STARTTLS\n",
    "code-only": b"250\r\n221\r\n",
    "code-mismatch": lines("250-mx", "251 other"),
    "malformed-code": lines("25O ok", "2500 ok", "650 bad", "2x0 ok", "250x"),
    "long-line": b"250 " + b"a" * 506 + b"\r\n" + b"250 " + b"a" * 507 + b"\r\n" + b"250-" + b"b" * 2000 + b"\r\n",
    "partial": b"250-mx.example.net\r\n250-PIPE",
}

# Server scripts (what client_session_fuzzer's client reads); the greeting comes first.
GREETING = lines("220 mx.example.net ESMTP Postfix (Debian/GNU)")
TLS_DELIVERY = [POSTFIX_EHLO_TLS, lines("250 2.1.0 Ok"), lines("250 2.1.5 Ok"), lines("250 2.1.5 Ok"),
                lines("354 End data with <CR><LF>.<CR><LF>"), lines("250 2.0.0 Ok: queued as 4Q1x2y3z"), lines("221 2.0.0 Bye")]
PLAIN_DELIVERY = TLS_DELIVERY
SERVER_SCRIPTS = {
    "postfix-starttls-delivery": [GREETING, POSTFIX_EHLO, lines("220 2.0.0 Ready to start TLS")] + TLS_DELIVERY,
    "exim-starttls-delivery": [lines("220 mail.example.com ESMTP Exim 4.96"), EXIM_EHLO, lines("220 TLS go ahead")] +
                              [EXIM_EHLO.replace(b"250-STARTTLS\r\n", b"")] + TLS_DELIVERY[1:],
    "opensmtpd-starttls-delivery": [lines("220 smtpd.example ESMTP OpenSMTPD"), OPENSMTPD_EHLO, lines("220 2.0.0 Ready to start TLS")] +
                                   TLS_DELIVERY,
    "no-starttls-listed": [GREETING, NO_STARTTLS_EHLO] + PLAIN_DELIVERY[1:],
    "starttls-answered-502": [GREETING, POSTFIX_EHLO, lines("502 5.5.1 Error: command not implemented")] + PLAIN_DELIVERY[1:],
    "starttls-answered-454": [GREETING, POSTFIX_EHLO, lines("454 4.7.0 TLS not available due to local problem")] + PLAIN_DELIVERY[1:],
    "starttls-answered-354": [GREETING, POSTFIX_EHLO, lines("354 go ahead")] + PLAIN_DELIVERY[1:],
    "starttls-answered-250": [GREETING, POSTFIX_EHLO, lines("250 2.0.0 Ok")] + PLAIN_DELIVERY[1:],
    "response-injection": [GREETING, POSTFIX_EHLO, lines("220 2.0.0 Ready to start TLS", "250-evil.example", "250 AUTH PLAIN")] +
                          TLS_DELIVERY,
    "response-injection-partial": [GREETING, POSTFIX_EHLO, lines("220 2.0.0 Ready to start TLS") + b"250-evil"] + TLS_DELIVERY,
    "starttls-listed-again-after-tls": [GREETING, POSTFIX_EHLO, lines("220 2.0.0 Ready to start TLS"), POSTFIX_EHLO] + TLS_DELIVERY[1:],
    "close-after-handshake": [GREETING, POSTFIX_EHLO, lines("220 2.0.0 Ready to start TLS")],
    "close-after-greeting": [GREETING],
    "greeting-421": [lines("421 4.3.2 Service not available")],
    "greeting-554": [lines("554 5.7.1 No SMTP service here")],
    "ehlo-5xx-helo": [GREETING, lines("502 5.5.2 EHLO not supported"), lines("250 mx.example.net")] + PLAIN_DELIVERY[1:],
    "mail-bounced": [GREETING, NO_STARTTLS_EHLO, lines("550 5.7.1 Sender rejected"), lines("221 2.0.0 Bye")],
    "mail-deferred": [GREETING, NO_STARTTLS_EHLO, lines("451 4.3.0 Try again later"), lines("221 2.0.0 Bye")],
    "rcpt-mixed": [GREETING, NO_STARTTLS_EHLO, lines("250 2.1.0 Ok"), lines("550 5.1.1 User unknown"), lines("450 4.2.0 Greylisted"),
                   lines("221 2.0.0 Bye")],
    "rcpt-one-accepted": [GREETING, NO_STARTTLS_EHLO, lines("250 2.1.0 Ok"), lines("550 5.1.1 User unknown"), lines("250 2.1.5 Ok"),
                          lines("354 go"), lines("250 2.0.0 queued"), lines("221 2.0.0 Bye")],
    "data-refused": [GREETING, NO_STARTTLS_EHLO, lines("250 2.1.0 Ok"), lines("250 2.1.5 Ok"), lines("250 2.1.5 Ok"),
                     lines("554 5.5.1 No valid recipients"), lines("221 2.0.0 Bye")],
    "end-of-data-refused": [GREETING, NO_STARTTLS_EHLO] + PLAIN_DELIVERY[1:5] + [lines("550 5.6.0 Malformed"), lines("221 Bye")],
    "end-of-data-no-reply": [GREETING, NO_STARTTLS_EHLO] + PLAIN_DELIVERY[1:5],
    "two-replies-at-once": [GREETING, NO_STARTTLS_EHLO, lines("250 2.1.0 Ok", "250 2.1.5 Ok"), lines("221 Bye")],
    "partial-reply-timeout": [GREETING, b"250-mx.example.net\r\n250-PIPE", lines("221 Bye")],
    "malformed-reply": [GREETING, lines("25O mx"), lines("221 Bye")],
    "code-mismatch": [GREETING, lines("250-mx", "251 STARTTLS"), lines("221 Bye")],
    "long-reply-line": [GREETING, b"250 " + b"x" * 600 + b"\r\n", lines("221 Bye")],
    "lf-only-replies": [b"220 mx\n", b"250-mx\n250 STARTTLS\n", b"220 go\n", b"250-mx\n250 8BITMIME\n", b"250 ok\n", b"250 ok\n",
                        b"250 ok\n", b"354 go\n", b"250 queued\n", b"221 bye\n"],
    "one-chunk-everything": [GREETING + POSTFIX_EHLO + b"".join(TLS_DELIVERY)],
}

# ---- configuration files -------------------------------------------------------------------------

IMTA_TABLES = {
    "minimal": b"$*  $U%$D@tcp-daemon\n\ntcp_local smtp mx maytls\ntcp-daemon\n",
    "switch-and-must": (b"! partner mail leaves over TLS only\n"
                        b"partner.example  $U%$D@tcp_tls-daemon\n.partner.example  $U%$H$D@tcp_tls-daemon\n"
                        b"$*  $U%$D@tcp-daemon\n\n"
                        b"tcp_local smtp mx maytls tlsswitchchannel tcp_tls\ntcp-daemon\n\n"
                        b"tcp_tls smtp mx musttls\ntcp_tls-daemon\n"),
    "defaults-nodefaults": (b"$*  $U%$D@tcp-daemon\n\n"
                            b"defaults notices 1 2 3 maytls\n\n"
                            b"tcp_local smtp mx\ntcp-daemon\n\n"
                            b"tcp_intranet smtp notlsclient\ntcp_intranet-daemon\n\n"
                            b"nodefaults\n\n"
                            b"bitbucket\nbitbucket-daemon\n"),
    "overrides": (b"$*  $U%$D@tcp-daemon\n\n"
                  b"tcp_local musttls notlsclient maytlsserver MUSTTLSCLIENT notls maytls\ntcp-daemon\n"),
    "continuations": (b"$*  $U%$D@tcp-daemon\n\n"
                      b"tcp_local smtp mx single_sys \\\n  subdirs 20 maxjobs 7 \\\n  ! a comment inside\n  maytls \\\n"
                      b"  tlsswitchchannel tcp_tls\ntcp-daemon\n\n"
                      b"tcp_tls musttls\ntcp_tls-daemon\n"),
    "wildcards": (b"*.example.com  $U%$D@tcp_a-daemon\n*.*.example.com  $U%$D@tcp_b-daemon\n.example.com  $U%$D@tcp_a-daemon\n"
                  b".  $U%$D@tcp_b-daemon\nexample.com  $U%$D@tcp_a-daemon\nexample.com  $U%$D@tcp_b-daemon\n\n"
                  b"tcp_a maytlsclient\ntcp_a-daemon\n\ntcp_b musttlsclient\ntcp_b-daemon\n"),
    "errors-missing-switch-value": b"$*  $U%$D@tcp-daemon\n\ntcp_local maytls tlsswitchchannel\ntcp-daemon\n",
    "errors-unknown-switch-target": b"$*  $U%$D@tcp-daemon\n\ntcp_local maytls tlsswitchchannel tcp_tsl\ntcp-daemon\n",
    "errors-unknown-tag": b"$*  $U%$D@nowhere-daemon\n\ntcp_local maytls\ntcp-daemon\n",
    "errors-duplicate-channel": b"$*  $U%$D@tcp-daemon\n\ntcp_local maytls\ntcp-daemon\n\nTCP_LOCAL notls\ntcp2-daemon\n",
    "errors-no-tag": b"$*  $U%$D@tcp-daemon\n\ntcp_local maytls\n",
    "crlf-and-tabs": b"$*\t$U%$D@tcp-daemon\r\n\r\ntcp_local\tsmtp\tmaytls \r\ntcp-daemon\r\n",
    "self-switch": b"$*  $U%$D@tcp-daemon\n\ntcp_local maytls tlsswitchchannel TCP_LOCAL\ntcp-daemon\n",
    "switch-chain": (b"$*  $U%$D@tcp-daemon\n\ntcp_local maytls tlsswitchchannel tcp_a\ntcp-daemon\n\n"
                     b"tcp_a maytls tlsswitchchannel tcp_b\ntcp_a-daemon\n\ntcp_b musttls\ntcp_b-daemon\n"),
}

DISPATCHER_FILES = {
    "minimal": b"[SERVICE=SMTP]\nPORT=25\n",
    "submission": (b"! submission with implicit TLS\n[SERVICE=SMTP_SUBMIT]\nPORT=587\nTLS_PORT=465\n"
                   b"PARAMETER=CHANNEL=tcp_submit\n"),
    "global-ports": b"MAX_PROCS=5\nPORT=25,2525\n[SERVICE=SMTP]\n[SERVICE=SMTP_OTHER]\nPORT=26\nPARAMETER=CHANNEL=tcp_intranet\n",
    "port-lists": b"[SERVICE=SMTP]\nPORT=25, 587 ,2525\nTLS_PORT=465,10465\n",
    "errors-ports": b"[SERVICE=SMTP]\nPORT=0\nTLS_PORT=70000\nPORT=abc\nPORT=\n",
    "errors-unknown-channel": b"[SERVICE=SMTP]\nPORT=25\nPARAMETER=CHANNEL=tcp_nosuch\n",
    "errors-syntax": b"[SERVICE=SMTP\nPORT 25\n=25\n[SERVICE=]\n[OTHER=X]\n",
    "case-and-spaces": b"[service=smtp]\n  port = 25 \nparameter=channel=TCP_LOCAL\n",
    "crlf": b"[SERVICE=SMTP]\r\nPORT=25\r\nPARAMETER=CHANNEL=tcp_tls\r\n",
    "must-on-25": b"[SERVICE=SMTP]\nPORT=25\nPARAMETER=CHANNEL=tcp_tls\n[SERVICE=SMTPS]\nTLS_PORT=465\nPARAMETER=CHANNEL=l\n",
    "other-parameters": b"[SERVICE=SMTP]\nPORT=25\nPARAMETER=SOMETHING=else\nPARAMETER=CHANNEL=\nIMAGE=IMTA_BIN:tcp_smtp_server\n",
}

# ---- starttls_transition_fuzzer: FuzzedDataProvider layout (transition_input.cpp) ----------------


class Provider:
    """Writes bytes that FuzzedDataProvider reads back as the given values: integers are taken from
    the end of the data, strings from the front."""

    def __init__(self):
        self.front = bytearray()
        self.back = bytearray()  # in the order FuzzedDataProvider reads them from the end

    def integral(self, value, lo, hi, bits):
        rng = hi - lo
        assert lo <= value <= hi
        n = 0
        while n * 8 < bits and (rng >> (n * 8)) > 0:
            n += 1
        if n:
            self.back += (value - lo).to_bytes(n, "big")

    def boolean(self, value):
        self.integral(1 if value else 0, 0, 255, 8)

    def string(self, s, max_length):
        assert len(s) < max_length
        self.front += s.replace(b"\\", b"\\\\") + b"\\x"

    def data(self):
        return bytes(self.front) + bytes(reversed(self.back))


POLICIES = {"no": 0, "may": 1, "must": 2}
HEALTHS = {"ok": 0, "unavailable": 1, "broken": 2}
MEDDLERS = {"none": 0, "strip": 1, "refuse": 2, "tamper": 3, "inject-command": 4, "inject-response": 5}
FAULTS = {"reset": 0, "stall": 1, "truncate": 2}
SEGMENT_MAX = [0, 0, 0, 0, 0, 0, 1460, 1460, 1460, 1460, 536, 64, 16, 7, 3, 1]  # transition_input.cpp


def transition(seed, client, server, health, meddler="none", switch=False, tls_port=False, latency=(1, 20),
               segment=1460, messages=((1, MESSAGE),), faults=(), retry=False, scripts=()):
    p = Provider()
    p.integral(seed, 0, 2**64 - 1, 64)
    p.integral(POLICIES[client], 0, 2, 8)
    p.integral(POLICIES[server], 0, 2, 8)
    p.integral(HEALTHS[health], 0, 2, 8)
    p.integral(MEDDLERS[meddler], 0, 5, 8)
    p.integral((1 if switch else 0) | (2 if tls_port else 0), 0, 255, 8)
    p.integral(latency[0], 0, 50, 8)
    p.integral(latency[1] - latency[0], 0, 100, 8)
    p.integral(SEGMENT_MAX.index(segment), 0, len(SEGMENT_MAX) - 1, 8)
    p.integral({1: 0, 2: 192, 3: 240}[len(messages)], 0, 255, 8)
    for rcpts, body in messages:
        p.integral(rcpts, 1, 3, 32)
        p.string(body.replace(b"\r\n", b"\n"), 2048)
    p.integral(len(faults), 0, 2, 32)
    for kind, c2s, after, connection in faults:
        p.integral(FAULTS[kind], 0, 2, 8)
        p.boolean(c2s)
        p.integral(after, 0, 4000, 16)
        p.integral(connection, 1, 3, 32)
    p.integral(224 if retry else 0, 0, 255, 8)
    p.integral({0: 0, 1: 128, 2: 224}[len(scripts)], 0, 255, 8)
    for wait, tls, chunks in scripts:
        p.boolean(wait)
        p.boolean(tls)
        p.integral(len(chunks), 1, 4, 32)
        for chunk in chunks:
            p.string(chunk, 512)
    return p.data()


# ---- writing the folders --------------------------------------------------------------------------


def session_input(header, chunks):
    return bytes([header]) + SEP.join(chunks)


def write_parser_seeds():
    command = Folder("smtp_command_fuzzer")
    for name, chunks in {**PLAIN_SESSIONS, **STARTTLS_SESSIONS}.items():
        command.add(name, b"".join(chunks))
    command.add("line-511", b"NOOP " + b"x" * 504 + b"\r\n")
    command.add("line-512", b"NOOP " + b"x" * 505 + b"\r\n")
    command.add("line-513", b"NOOP " + b"x" * 506 + b"\r\n")
    command.add("bare-cr-before-crlf", b"NOOP\r\r\n")
    command.add("cr-at-end", b"NOOP\r")
    command.add("nul-in-long-line", b"NOOP \x00" + b"y" * 600 + b"\r\n")

    reply = Folder("smtp_reply_fuzzer")
    for name, data in REPLIES.items():
        reply.add(name, data)
    for name, chunks in SERVER_SCRIPTS.items():
        reply.add("script-" + name, b"".join(chunks))

    data = Folder("smtp_data_fuzzer")
    data.add("message", STUFFED)
    data.add("empty-message", b".\r\n")
    data.add("two-messages", STUFFED + b"Subject: second\r\n\r\nx\r\n.\r\n")
    data.add("dot-lines", b"..\r\n...\r\n.x\r\n. \r\n.\r\n")
    data.add("long-lines", b"y" * 998 + b"\r\n" + b"z" * 999 + b"\r\n." + b"w" * 998 + b"\r\n.\r\n")
    data.add("bare-cr-lf-nul", b"a\rb\r\nc\nd\r\ne\x00f\r\n.\r\n")
    data.add("no-end", b"Subject: unfinished\r\n\r\nstill going\r\n")
    data.add("cr-dot-sequences", b"x\r\r\n.\r\r\n.\rx\r\n.\r\n")
    for name, seq in SMUGGLING.items():
        body = smuggling_body(seq)
        data.add("smuggling-" + name, body)
        # The last octet picks the size limit (smtp_data_fuzzer.cpp): 1000, 64, 1, 0 octets.
        for suffix, limit in ((b"e", "1000"), (b"a", "64"), (b"b", "1"), (b"c", "0")):
            data.add("smuggling-%s-limit-%s" % (name, limit), body + suffix)


def write_config_seeds():
    imta = Folder("imta_cnf_fuzzer")
    imta.copy("default", CORPUS / "configs/default/imta.cnf")
    for d in sorted((ROOT / "tests/data/configs").iterdir()):
        if (d / "imta.cnf").exists():
            imta.copy("test-" + d.name, d / "imta.cnf")
    for name, text in IMTA_TABLES.items():
        imta.add(name, text)

    dispatcher = Folder("dispatcher_cnf_fuzzer")
    dispatcher.copy("default", CORPUS / "configs/default/dispatcher.cnf")
    for d in sorted((ROOT / "tests/data/configs").iterdir()):
        if (d / "dispatcher.cnf").exists():
            dispatcher.copy("test-" + d.name, d / "dispatcher.cnf")
    for name, text in DISPATCHER_FILES.items():
        dispatcher.add(name, text)


def write_session_seeds():
    # server_session_fuzzer: plaintext sessions apart from STARTTLS ones (ci/fuzz.sh measures the
    # plaintext speed on the first folder alone). Header: policy + 3 * health + 9 * switch.
    plain = Folder("server_session_fuzzer")
    starttls = Folder("server_session_fuzzer_starttls")
    for name, chunks in PLAIN_SESSIONS.items():
        for policy in ("no", "may", "must"):
            plain.add("%s-%s" % (name, policy), session_input(POLICIES[policy], chunks))
    for name, chunks in STARTTLS_SESSIONS.items():
        for policy in ("no", "may", "must"):
            for health in ("ok", "unavailable", "broken"):
                if policy == "no" and health != "ok":
                    continue
                header = POLICIES[policy] + 3 * HEALTHS[health] + 9 * (1 if name == "starttls-then-deliver" else 0)
                starttls.add("%s-%s-%s" % (name, policy, health), session_input(header, chunks))

    client = Folder("client_session_fuzzer")
    for name, chunks in SERVER_SCRIPTS.items():
        for policy in ("no", "may", "must"):
            client.add("%s-%s" % (name, policy), session_input(POLICIES[policy], chunks))


def write_transition_seeds():
    t = Folder("starttls_transition_fuzzer")
    seed = 1
    for client in POLICIES:
        for server in POLICIES:
            for health in (("ok",) if server == "no" else HEALTHS):
                for meddler in MEDDLERS:
                    t.add("cell-%s-%s-%s-%s" % (client, server, health, meddler),
                          transition(seed, client, server, health, meddler, switch=seed % 2 == 0))
                    seed += 1
    for client in ("may", "must"):
        for server in POLICIES:
            for health in HEALTHS:
                t.add("tls-port-%s-%s-%s" % (client, server, health),
                      transition(seed, client, server, health, tls_port=True, switch=True))
                seed += 1
    for kind in FAULTS:
        for c2s in (True, False):
            for after in (0, 60, 214, 400, 1200):
                t.add("fault-%s-%s-%d" % (kind, "c2s" if c2s else "s2c", after),
                      transition(seed, "may", "may", "ok", faults=((kind, c2s, after, 1),), retry=kind != "stall"))
                seed += 1
    t.add("one-byte-segments", transition(seed, "must", "may", "ok", segment=1, latency=(0, 0)))
    t.add("no-latency-as-sent", transition(seed + 1, "may", "must", "ok", segment=0, latency=(0, 0)))
    t.add("seven-octet-segments", transition(seed + 3, "may", "may", "broken", segment=7))
    t.add("three-messages", transition(seed + 2, "may", "may", "ok", messages=((1, MESSAGE), (3, b"Subject: b\r\n\r\n.\r\n"),
                                                                                 (2, b"x" * 1500 + b"\r\n"))))
    for name, chunks in list(STARTTLS_SESSIONS.items())[:8] + list(PLAIN_SESSIONS.items())[:6]:
        for wait in (False, True):
            script = (wait, name.startswith("starttls") or name.startswith("injection") or name.startswith("pipelined"),
                      [c for c in chunks[:4] if len(c) < 500])
            if not script[2]:
                continue
            t.add("script-%s-%s" % (name, "wait" if wait else "nowait"),
                  transition(seed, "may", "must", "ok", meddler="inject-command", scripts=(script,)))
            seed += 1


def write_transcript_seeds(tlschan):
    folder = CORPUS / "transcript_fuzzer"
    kept = {}
    if tlschan is None and folder.exists():
        kept = {f.name: f.read_bytes() for f in folder.iterdir() if f.name.endswith(".transcript")}
    t = Folder("transcript_fuzzer")
    for scenario in sorted((CORPUS / "scenarios").glob("*.toml")):
        t.copy(scenario.name, scenario)
    for transcript in sorted((CORPUS / "regressions/transcripts").glob("*.transcript")):
        t.copy("regression-" + transcript.name, transcript)
    for name, data in kept.items():
        if name not in t.names:
            t.add(name, data)
    if tlschan is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in sorted((CORPUS / "scenarios").glob("*.toml")):
            out = pathlib.Path(tmp) / (scenario.stem + ".transcript")
            subprocess.run([tlschan, "run", str(scenario), "--seed", "7", "--transcript", str(out)],
                           stdout=subprocess.DEVNULL, check=False)
            if out.exists() and out.stat().st_size < 64 * 1024:
                t.add(out.name, out.read_bytes())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tlschan", help="the tlschan command, to make transcripts of corpus/scenarios")
    args = parser.parse_args()
    write_parser_seeds()
    write_config_seeds()
    write_session_seeds()
    write_transition_seeds()
    write_transcript_seeds(args.tlschan)
    for d in sorted(CORPUS.iterdir()):
        if d.name.endswith("_fuzzer") or d.name.endswith("_starttls"):
            files = [f for f in d.iterdir() if f.is_file()]
            print("%-36s %4d seeds, %7d bytes" % (d.name, len(files), sum(f.stat().st_size for f in files)))


if __name__ == "__main__":
    sys.exit(main())
