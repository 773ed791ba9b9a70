"""Accounts: users, sign-in (OTP, passwords, refresh tokens), socket tickets, devices."""
