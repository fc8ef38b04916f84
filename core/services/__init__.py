"""The services, one per concern (garments, avatars, fittings, operations) over shared record
lookup and presentation (`records`). Each calls the pipeline and the stores, never a pipeline stage
(`core.mesh`, `core.fitting`, `core.garment`, `core.ai` but its reconstructor registry) directly;
`core.service.FitroomService` is the facade the faces call."""
