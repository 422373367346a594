"""The knowledge base: articles, their rendering and search, feedback and the content-gap report."""
