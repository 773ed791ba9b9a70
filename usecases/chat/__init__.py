"""Chat: conversations, members, chat messages, receipts, reactions, edits, blocks and their events."""
