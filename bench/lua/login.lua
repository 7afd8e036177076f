-- POST /auth/login with a rotating list of JSON bodies (one per line in the first argument).
local bodies, i = {}, 0
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  i = math.random(#bodies)
end
function request()
  i = i % #bodies + 1
  return wrk.format("POST", "/auth/login", { ["Content-Type"] = "application/json" }, bodies[i])
end
