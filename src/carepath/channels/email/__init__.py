"""Email: the SMTP listener and IMAP polling in, SMTP out, with threading by Message-ID."""

from carepath.channels.email.attachments import AttachmentPolicy
from carepath.channels.email.imap_poller import ImapPoller, ImapPolling
from carepath.channels.email.inbound import Delivery, EmailCounters, EmailInbox, Outcome
from carepath.channels.email.parse import MalformedEmail, ParsedEmail, parse_email
from carepath.channels.email.sender import SmtpSender, SmtpServer
from carepath.channels.email.smtp_server import SmtpListener

__all__ = [
    "AttachmentPolicy",
    "Delivery",
    "EmailCounters",
    "EmailInbox",
    "ImapPoller",
    "ImapPolling",
    "MalformedEmail",
    "Outcome",
    "ParsedEmail",
    "SmtpListener",
    "SmtpSender",
    "SmtpServer",
    "parse_email",
]
