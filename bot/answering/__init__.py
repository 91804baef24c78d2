"""Answering questions: text handling, the engine, the classifier, the knowledge base, evaluation."""
