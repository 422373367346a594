"""The demo company (`carepath demo`): its content, its seeding, its history and live traffic."""
