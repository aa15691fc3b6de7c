"""The bank's commands, by area; ``application.bank.CreditBank`` joins them on one Application."""
