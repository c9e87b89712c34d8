-- :HudCallers / :HudCallees (quickfix from the call hierarchy, with production's figures), :HudExplain,
-- :HudRefresh. Everything is asynchronous: the editor never waits for hud-lsp.
local hud = require('hud')
local M = {}

local function warn(msg) vim.notify('hud: ' .. msg, vim.log.levels.WARN) end

-- The hud client of the current buffer, or nil after saying why.
function M.client_or_warn()
  if not hud.config then
    warn('not set up: call require("hud").setup{...}')
    return nil
  end
  local c = hud.client(0)
  if not c then warn('no hud-lsp client for this buffer (filetype ' .. vim.bo.filetype .. ')') end
  return c
end

-- Quickfix items for callHierarchy answers. Callers: the call site in the caller's file; callees: the
-- callee's name. Peers outside the workspace (hud:///module) keep only their text.
function M.qf_items(direction, calls)
  local items = {}
  for _, call in ipairs(calls or {}) do
    local peer = direction == 'incoming' and call.from or call.to
    local item = { text = peer.name .. (peer.detail and peer.detail ~= '' and (' — ' .. peer.detail) or '') }
    if peer.uri and peer.uri:match('^file:') then
      local pos = peer.selectionRange.start
      if direction == 'incoming' and call.fromRanges and call.fromRanges[1] then pos = call.fromRanges[1].start end
      item.filename = vim.uri_to_fname(peer.uri)
      item.lnum = pos.line + 1
      item.col = pos.character + 1
    else
      item.valid = 0
    end
    table.insert(items, item)
  end
  return items
end

local function call_list(direction)
  local client = M.client_or_warn()
  if not client then return end
  local bufnr = vim.api.nvim_get_current_buf()
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  hud.request(client, 'textDocument/prepareCallHierarchy', params, function(err, items)
    if err then return warn(err.message) end
    if not items or not items[1] then return warn('no function at the cursor') end
    local item = items[1]
    hud.request(client, 'callHierarchy/' .. direction .. 'Calls', { item = item }, function(err2, calls)
      if err2 then return warn(err2.message) end
      local what = direction == 'incoming' and 'callers' or 'callees'
      if not calls or #calls == 0 then
        return vim.notify(string.format('hud: no %s of %s in production (%s)', what, item.name, item.detail or ''))
      end
      vim.fn.setqflist({}, ' ', {
        title = string.format('hud %s of %s (%s)', what, item.name, item.detail or ''),
        items = M.qf_items(direction, calls),
      })
      vim.cmd('botright copen')
    end, bufnr)
  end, bufnr)
end

function M.callers() call_list('incoming') end
function M.callees() call_list('outgoing') end

-- hud.explain on the current buffer: hud-lsp answers and shows the message (window/showMessage,
-- through vim.notify). The answer is kept in hud.last_explain.
function M.explain()
  local client = M.client_or_warn()
  if not client then return end
  local bufnr = vim.api.nvim_get_current_buf()
  local uri = vim.uri_from_bufnr(bufnr)
  hud.request(client, 'workspace/executeCommand', { command = 'hud.explain', arguments = { uri } }, function(err, res)
    if err then return warn(err.message) end
    hud.last_explain = res
  end, bufnr)
end

-- hud.refresh on every hud client, then the lenses again.
function M.refresh()
  local clients = hud.all_clients()
  if #clients == 0 then return warn('no hud-lsp client running') end
  for _, c in ipairs(clients) do
    hud.request(c, 'workspace/executeCommand', { command = 'hud.refresh' }, function()
      hud.refresh_lenses(vim.api.nvim_get_current_buf())
    end)
  end
end

return M
