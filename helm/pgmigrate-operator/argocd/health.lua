-- Argo CD health check for pgmigrate.io/PgMigration. Add it to argocd-cm as
-- resource.customizations.health.pgmigrate.io_PgMigration (see the README). It reads the
-- conditions the operator sets for GitOps tools, as kstatus (Flux) does:
--   Stalled True                          -> Degraded (the migration failed; reason: message)
--   Ready True                            -> Healthy  (Ready; validateOnly checks passed;
--                                                      Syncing with keepReplicating: true)
--   otherwise, while the operator has not -> Progressing (Validating, Migrating, a cutover,
--   yet seen the latest generation                       a deletion)
local hs = {status = "Progressing", message = "waiting for the operator to report status"}
if obj.status == nil then
  return hs
end
if obj.metadata.deletionTimestamp ~= nil then
  hs.message = "being deleted: the operator removes its replication objects first"
  return hs
end
local st = obj.status
local generation = obj.metadata.generation
if generation ~= nil and (st.observedGeneration == nil or st.observedGeneration < generation) then
  hs.message = "waiting for the operator to act on generation " .. generation
  return hs
end
local conditions = {}
if st.conditions ~= nil then
  for _, c in ipairs(st.conditions) do
    conditions[c.type] = c
  end
end
local function describe(c)
  local text = (st.phase or "") .. " (" .. (c.reason or "") .. ")"
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. c.message
  end
  return text
end
local stalled = conditions["Stalled"]
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end
local ready = conditions["Ready"]
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end
local reconciling = conditions["Reconciling"]
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = describe(reconciling)
elseif st.phase ~= nil then
  hs.message = st.phase .. (st.message ~= nil and (": " .. st.message) or "")
end
local err = conditions["ReconcileError"]
if err ~= nil and err.status == "True" then
  hs.message = hs.message .. "; retrying after an error: " .. (err.message or "")
end
return hs
