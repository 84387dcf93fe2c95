-- uniform.lua: every data source equally often, whatever the statistics.
function curriculum(state)
  local w = {}
  for _, src in ipairs(state.sources) do w[src.name] = 1.0 end
  return w
end
