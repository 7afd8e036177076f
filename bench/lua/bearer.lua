-- GET with `Authorization: Bearer <token>`; the token file is the first script argument.
function init(args)
  local f = assert(io.open(args[1]))
  wrk.headers["Authorization"] = "Bearer " .. f:read("*l")
  f:close()
end
