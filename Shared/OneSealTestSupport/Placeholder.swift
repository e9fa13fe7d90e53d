// Test support: see TestDatabase.swift
