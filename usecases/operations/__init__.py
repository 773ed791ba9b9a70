"""Operations: dead letters, their requeue and audit, and the maintenance ticks."""
