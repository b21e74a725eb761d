"""Qt-free job model, scheduler, resource slots and executors."""
