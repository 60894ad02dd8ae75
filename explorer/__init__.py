"""Loss Function Explorer: a small NumPy neural-network engine for seeing how losses train."""

from explorer import activations, losses, metrics, optimizers, pairing
from explorer.network import Model, Network
from explorer.training import fit

__all__ = ["activations", "fit", "losses", "metrics", "Model", "Network", "optimizers",
           "pairing"]
__version__ = "0.1.0"
