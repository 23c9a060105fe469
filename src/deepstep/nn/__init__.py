"""Neural-network building blocks: functional kernels (``deepstep.nn.functional``)."""
