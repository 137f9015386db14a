-- Plain GET of the URL given to wrk (the HTTP-stack floor in bench/reactions_hot.py).
function request()
  return wrk.format("GET", nil)
end
