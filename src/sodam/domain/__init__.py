"""Pure types and rules: ids, entities, typed events, unread arithmetic. Standard library only."""
