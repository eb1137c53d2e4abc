"""The model: Docker's concepts (lab, host, network, container) over the kernel layer."""
