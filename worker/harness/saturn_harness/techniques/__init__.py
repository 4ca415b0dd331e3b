"""Parallelism techniques: the built-ins (ddp, fsdp, fsdp-offload, pipeline) and any a user
registers with `register_technique`."""
