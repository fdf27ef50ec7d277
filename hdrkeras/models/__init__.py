"""One module per architecture, each a functional `keras.Model` registered serializable
where it is defined. Every model module is imported here (explicitly) so that importing
the package registers them all: hdrkeras.saving relies on it to load any hdrkeras `.keras`
file. A new architecture is one more name below."""

from hdrkeras.models import ahdrnet, esbn, fshdr, hdr_transformer, lanhdr, sctnet  # noqa: F401
