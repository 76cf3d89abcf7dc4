/**
 * The donor under pressure: what the machine can spare (cgroup v2, PSI, MemAvailable), the effective budget
 * that follows from it and the operator's, and the watermarks that decide what the donor does as it fills:
 * evict ephemeral pages, reject puts, hand persistent pages back. Owns the policy; the page store
 * ({@code ..store}) owns the mechanisms and the hand-back exchange lives in {@code ..handback}. Must not touch
 * the data path's hot loop beyond one level check per put frame.
 */
package dev.pagepool.node.pressure;
