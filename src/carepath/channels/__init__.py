"""Channel adapters: one package per channel turning provider input into inbound messages and
outbound messages into provider requests."""
