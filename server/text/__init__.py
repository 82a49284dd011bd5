"""Words for people and models: renderings of results and previews of writes."""
