-- :HudHotPaths and :HudErrorFlows: hud-lsp's hud/hotPaths and hud/errorFlows for the function at the
-- cursor, in a floating window (q or <Esc> closes it, <CR> jumps to the function of the line when it is
-- in the workspace).
local hud = require('hud')
local M = {}

local function fmt_ms(ms)
  if type(ms) ~= 'number' then return '?' end
  if ms < 1 then return string.format('%d µs', math.floor(ms * 1000 + 0.5)) end
  if ms < 10 then return string.format('%.1f ms', ms) end
  if ms < 1000 then return string.format('%d ms', math.floor(ms + 0.5)) end
  if ms < 60000 then return string.format('%.1f s', ms / 1000) end
  return string.format('%.1f min', ms / 60000)
end
M.fmt_ms = fmt_ms

local function fmt_count(n)
  if type(n) ~= 'number' then return '?' end
  if n >= 1e6 then return string.format('%.1fM', n / 1e6) end
  if n >= 1e4 then return string.format('%dk', math.floor(n / 1e3 + 0.5)) end
  if n >= 1e3 then return string.format('%.1fk', n / 1e3) end
  return tostring(math.floor(n + 0.5))
end
M.fmt_count = fmt_count

-- "last 1h" from the answer's window (Unix ms).
local function fmt_window(w)
  if type(w) ~= 'table' or type(w.from) ~= 'number' or type(w.to) ~= 'number' then return '' end
  local s = math.floor((w.to - w.from) / 1000 + 0.5)
  if s % 86400 == 0 then return string.format('last %dd', s / 86400) end
  if s % 3600 == 0 then return string.format('last %dh', s / 3600) end
  if s % 60 == 0 then return string.format('last %dm', s / 60) end
  return string.format('last %ds', s)
end
M.fmt_window = fmt_window

local function node_name(n)
  if type(n) ~= 'table' then return '?' end
  local name = n.name or n.functionId or '?'
  if n.modulePath and n.modulePath ~= '' then name = name .. ' (' .. n.modulePath .. ')' end
  return name
end

-- Lines of a hud/hotPaths answer and, per line, the node's location (or false).
function M.render_hot_paths(res)
  local lines, locs = {}, {}
  local root = res.root
  table.insert(lines, string.format('Hot paths below %s, by %s, %s', root and root.name or '?', res.by or 'time',
    fmt_window(res.window)))
  table.insert(lines, '')
  table.insert(locs, false)
  table.insert(locs, false)
  local rows = {}
  local function walk(n, prefix, child_prefix)
    local label = prefix .. (n.name or n.functionId or '?')
    if n.exception then label = label .. ' ⚠' end
    local figs = string.format('%3d%%  %9s  %6s calls', math.floor((n.share or 0) * 100 + 0.5), fmt_ms(n.totalMs),
      fmt_count(n.calls))
    if n.errors and n.errors > 0 then figs = figs .. string.format('  %s err', fmt_count(n.errors)) end
    table.insert(rows, { label = label, figs = figs, loc = type(n.location) == 'table' and n.location or false })
    local kids = n.children or {}
    for i, k in ipairs(kids) do
      local last = i == #kids
      walk(k, child_prefix .. (last and '└─ ' or '├─ '), child_prefix .. (last and '   ' or '│  '))
    end
  end
  if root then walk(root, '', '') end
  local width = 0
  for _, r in ipairs(rows) do width = math.max(width, vim.fn.strdisplaywidth(r.label)) end
  for _, r in ipairs(rows) do
    table.insert(lines, r.label .. string.rep(' ', width - vim.fn.strdisplaywidth(r.label) + 2) .. r.figs)
    table.insert(locs, r.loc)
  end
  return lines, locs
end

-- Lines of a hud/errorFlows answer and their locations.
function M.render_error_flows(res)
  local lines, locs = {}, {}
  local function add(text, loc)
    table.insert(lines, text)
    table.insert(locs, loc or false)
  end
  add(string.format('Error flows through %s, %s', res['function'] and res['function'].name or '?', fmt_window(res.window)))
  local flows = res.flows or {}
  if #flows == 0 then
    add('')
    add('No exception went through it in the window.')
  end
  for _, f in ipairs(flows) do
    local caught = type(f.caughtIn) == 'table' and f.caughtIn or nil -- JSON null is vim.NIL
    add('')
    add(string.format('%s ×%s  %s', f.exceptionType or '?', fmt_count(f.count),
      (f.escaped or not caught) and 'escaped' or ('caught in ' .. (caught.name or '?'))))
    local origin = type(f.origin) == 'table' and f.origin or {}
    add('  raised in  ' .. node_name(origin), origin.location)
    for _, t in ipairs(f.through or {}) do add('  through    ' .. node_name(t), t.location) end
    if caught then add('  caught in  ' .. node_name(caught), caught.location) end
  end
  return lines, locs
end

-- A floating window holding LINES; <CR> on a line with a location jumps there. Returns buf, win.
function M.open_float(lines, locs, title)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].filetype = 'hudpanel'
  local width = 20
  for _, l in ipairs(lines) do width = math.max(width, vim.fn.strdisplaywidth(l)) end
  width = math.min(width + 2, math.max(20, vim.o.columns - 4))
  local height = math.min(#lines, math.max(3, vim.o.lines - 6))
  local opts = {
    relative = 'editor', width = width, height = height, style = 'minimal', border = 'rounded',
    row = math.floor((vim.o.lines - height) / 2) - 1, col = math.floor((vim.o.columns - width) / 2),
  }
  if vim.fn.has('nvim-0.9') == 1 then opts.title = ' ' .. title .. ' ' end
  local win = vim.api.nvim_open_win(buf, true, opts)
  local close = function() if vim.api.nvim_win_is_valid(win) then vim.api.nvim_win_close(win, true) end end
  vim.keymap.set('n', 'q', close, { buffer = buf, nowait = true })
  vim.keymap.set('n', '<Esc>', close, { buffer = buf, nowait = true })
  vim.keymap.set('n', '<CR>', function()
    local loc = locs[vim.api.nvim_win_get_cursor(0)[1]]
    if not loc or not loc.uri then return end
    close()
    vim.cmd('edit ' .. vim.fn.fnameescape(vim.uri_to_fname(loc.uri)))
    local s = loc.range and loc.range.start or { line = 0, character = 0 }
    pcall(vim.api.nvim_win_set_cursor, 0, { s.line + 1, s.character })
  end, { buffer = buf, nowait = true })
  M.last = { buf = buf, win = win }
  return buf, win
end

local function panel(method, extra, render, title)
  local commands = require('hud.commands')
  local client = commands.client_or_warn()
  if not client then return end
  local bufnr = vim.api.nvim_get_current_buf()
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  for k, v in pairs(extra or {}) do params[k] = v end
  hud.request(client, method, params, function(err, res)
    if err then return vim.notify('hud: ' .. method .. ': ' .. (err.message or 'error'), vim.log.levels.WARN) end
    if type(res) ~= 'table' then return vim.notify('hud: ' .. method .. ': no answer', vim.log.levels.WARN) end
    if type(res.error) == 'table' then
      return vim.notify(string.format('hud: %s (%s)', res.error.message or '', res.error.reason or '?'),
        vim.log.levels.WARN)
    end
    local lines, locs = render(res)
    M.open_float(lines, locs, title)
  end, bufnr)
end

-- by: 'time' (default) or 'calls'.
function M.hot_paths(by)
  panel('hud/hotPaths', { by = (by == 'calls') and 'calls' or 'time' }, M.render_hot_paths, 'hud hot paths')
end

function M.error_flows() panel('hud/errorFlows', nil, M.render_error_flows, 'hud error flows') end

return M
