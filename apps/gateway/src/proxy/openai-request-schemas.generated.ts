/* eslint-disable */
// GENERATED, do not edit. OpenAI request body schemas, vendored from
// github.com/openai/openai-openapi/openapi.json at commit f85dbe223d40e1a31cba812ab2d755c7e98a92a3 (spec 2.3.0, MIT licence),
// transform: openai-schema/extract.mjs: $refs inlined, nullable -> null union, doc/vendor keys dropped.
// To update: regenerate this file from a newer extract (requests.json) with the same transform,
// keeping the shape `export const openAIRequestSchemas = { source, schemas } as const`.
// Draft 2020-12; compile with ajv/dist/2020 and strict: false (the spec uses keywords ajv does not know).

export const openAIRequestSchemas = {
 "source": {
  "repository": "github.com/openai/openai-openapi",
  "file": "openapi.json",
  "commit": "f85dbe223d40e1a31cba812ab2d755c7e98a92a3",
  "openapi": "3.1.0",
  "info_version": "2.3.0",
  "components": [
   "#/components/schemas/CreateChatCompletionRequest",
   "#/components/schemas/CreateCompletionRequest",
   "#/components/schemas/CreateEmbeddingRequest"
  ],
  "transform": "openai-schema/extract.mjs: $refs inlined, nullable -> null union, doc/vendor keys dropped"
 },
 "schemas": {
  "CreateChatCompletionRequest": {
   "allOf": [
    {
     "allOf": [
      {
       "type": "object",
       "properties": {
        "metadata": {
         "anyOf": [
          {
           "type": "object",
           "additionalProperties": {
            "type": "string"
           }
          },
          {
           "type": "null"
          }
         ]
        },
        "top_logprobs": {
         "anyOf": [
          {
           "type": "integer",
           "minimum": 0,
           "maximum": 20
          },
          {
           "type": "null"
          }
         ]
        },
        "temperature": {
         "anyOf": [
          {
           "type": "number",
           "minimum": 0,
           "maximum": 2
          },
          {
           "type": "null"
          }
         ]
        },
        "top_p": {
         "anyOf": [
          {
           "type": "number",
           "minimum": 0,
           "maximum": 1
          },
          {
           "type": "null"
          }
         ]
        },
        "user": {
         "type": "string"
        },
        "safety_identifier": {
         "anyOf": [
          {
           "type": "string",
           "maxLength": 64
          },
          {
           "type": "null"
          }
         ]
        },
        "prompt_cache_key": {
         "anyOf": [
          {
           "type": "string"
          },
          {
           "type": "null"
          }
         ]
        },
        "prompt_cache_retention": {
         "anyOf": [
          {
           "type": "string",
           "enum": [
            "in_memory",
            "24h"
           ]
          },
          {
           "type": "null"
          }
         ]
        }
       }
      },
      {
       "type": "object",
       "properties": {
        "prompt_cache_options": {
         "properties": {
          "ttl": {
           "type": "string",
           "enum": [
            "30m"
           ]
          },
          "mode": {
           "type": "string",
           "enum": [
            "implicit",
            "explicit"
           ]
          }
         },
         "type": "object",
         "required": []
        },
        "top_logprobs": {
         "type": "integer",
         "minimum": 0,
         "maximum": 20
        }
       }
      }
     ]
    },
    {
     "type": "object",
     "properties": {
      "messages": {
       "type": "array",
       "minItems": 1,
       "items": {
        "oneOf": [
         {
          "type": "object",
          "properties": {
           "content": {
            "oneOf": [
             {
              "type": "string"
             },
             {
              "type": "array",
              "items": {
               "type": "object",
               "properties": {
                "type": {
                 "type": "string",
                 "enum": [
                  "text"
                 ]
                },
                "text": {
                 "type": "string"
                },
                "prompt_cache_breakpoint": {
                 "properties": {
                  "mode": {
                   "type": "string",
                   "enum": [
                    "explicit"
                   ]
                  }
                 },
                 "type": "object",
                 "required": [
                  "mode"
                 ]
                }
               },
               "required": [
                "type",
                "text"
               ]
              },
              "minItems": 1
             }
            ]
           },
           "role": {
            "type": "string",
            "enum": [
             "developer"
            ]
           },
           "name": {
            "type": "string"
           }
          },
          "required": [
           "content",
           "role"
          ]
         },
         {
          "type": "object",
          "properties": {
           "content": {
            "oneOf": [
             {
              "type": "string"
             },
             {
              "type": "array",
              "items": {
               "oneOf": [
                {
                 "type": "object",
                 "properties": {
                  "type": {
                   "type": "string",
                   "enum": [
                    "text"
                   ]
                  },
                  "text": {
                   "type": "string"
                  },
                  "prompt_cache_breakpoint": {
                   "properties": {
                    "mode": {
                     "type": "string",
                     "enum": [
                      "explicit"
                     ]
                    }
                   },
                   "type": "object",
                   "required": [
                    "mode"
                   ]
                  }
                 },
                 "required": [
                  "type",
                  "text"
                 ]
                }
               ]
              },
              "minItems": 1
             }
            ]
           },
           "role": {
            "type": "string",
            "enum": [
             "system"
            ]
           },
           "name": {
            "type": "string"
           }
          },
          "required": [
           "content",
           "role"
          ]
         },
         {
          "type": "object",
          "properties": {
           "content": {
            "oneOf": [
             {
              "type": "string"
             },
             {
              "type": "array",
              "items": {
               "oneOf": [
                {
                 "type": "object",
                 "properties": {
                  "type": {
                   "type": "string",
                   "enum": [
                    "text"
                   ]
                  },
                  "text": {
                   "type": "string"
                  },
                  "prompt_cache_breakpoint": {
                   "properties": {
                    "mode": {
                     "type": "string",
                     "enum": [
                      "explicit"
                     ]
                    }
                   },
                   "type": "object",
                   "required": [
                    "mode"
                   ]
                  }
                 },
                 "required": [
                  "type",
                  "text"
                 ]
                },
                {
                 "type": "object",
                 "properties": {
                  "type": {
                   "type": "string",
                   "enum": [
                    "image_url"
                   ]
                  },
                  "image_url": {
                   "type": "object",
                   "properties": {
                    "url": {
                     "type": "string",
                     "format": "uri"
                    },
                    "detail": {
                     "type": "string",
                     "enum": [
                      "auto",
                      "low",
                      "high"
                     ]
                    }
                   },
                   "required": [
                    "url"
                   ]
                  },
                  "prompt_cache_breakpoint": {
                   "properties": {
                    "mode": {
                     "type": "string",
                     "enum": [
                      "explicit"
                     ]
                    }
                   },
                   "type": "object",
                   "required": [
                    "mode"
                   ]
                  }
                 },
                 "required": [
                  "type",
                  "image_url"
                 ]
                },
                {
                 "type": "object",
                 "properties": {
                  "type": {
                   "type": "string",
                   "enum": [
                    "input_audio"
                   ]
                  },
                  "input_audio": {
                   "type": "object",
                   "properties": {
                    "data": {
                     "type": "string"
                    },
                    "format": {
                     "type": "string",
                     "enum": [
                      "wav",
                      "mp3"
                     ]
                    }
                   },
                   "required": [
                    "data",
                    "format"
                   ]
                  },
                  "prompt_cache_breakpoint": {
                   "properties": {
                    "mode": {
                     "type": "string",
                     "enum": [
                      "explicit"
                     ]
                    }
                   },
                   "type": "object",
                   "required": [
                    "mode"
                   ]
                  }
                 },
                 "required": [
                  "type",
                  "input_audio"
                 ]
                },
                {
                 "type": "object",
                 "properties": {
                  "type": {
                   "type": "string",
                   "enum": [
                    "file"
                   ]
                  },
                  "file": {
                   "type": "object",
                   "properties": {
                    "filename": {
                     "type": "string"
                    },
                    "file_data": {
                     "type": "string"
                    },
                    "file_id": {
                     "type": "string"
                    }
                   }
                  },
                  "prompt_cache_breakpoint": {
                   "properties": {
                    "mode": {
                     "type": "string",
                     "enum": [
                      "explicit"
                     ]
                    }
                   },
                   "type": "object",
                   "required": [
                    "mode"
                   ]
                  }
                 },
                 "required": [
                  "type",
                  "file"
                 ]
                }
               ]
              },
              "minItems": 1
             }
            ]
           },
           "role": {
            "type": "string",
            "enum": [
             "user"
            ]
           },
           "name": {
            "type": "string"
           }
          },
          "required": [
           "content",
           "role"
          ]
         },
         {
          "type": "object",
          "properties": {
           "content": {
            "anyOf": [
             {
              "oneOf": [
               {
                "type": "string"
               },
               {
                "type": "array",
                "items": {
                 "oneOf": [
                  {
                   "type": "object",
                   "properties": {
                    "type": {
                     "type": "string",
                     "enum": [
                      "text"
                     ]
                    },
                    "text": {
                     "type": "string"
                    },
                    "prompt_cache_breakpoint": {
                     "properties": {
                      "mode": {
                       "type": "string",
                       "enum": [
                        "explicit"
                       ]
                      }
                     },
                     "type": "object",
                     "required": [
                      "mode"
                     ]
                    }
                   },
                   "required": [
                    "type",
                    "text"
                   ]
                  },
                  {
                   "type": "object",
                   "properties": {
                    "type": {
                     "type": "string",
                     "enum": [
                      "refusal"
                     ]
                    },
                    "refusal": {
                     "type": "string"
                    }
                   },
                   "required": [
                    "type",
                    "refusal"
                   ]
                  }
                 ]
                },
                "minItems": 1
               }
              ]
             },
             {
              "type": "null"
             }
            ]
           },
           "refusal": {
            "anyOf": [
             {
              "type": "string"
             },
             {
              "type": "null"
             }
            ]
           },
           "role": {
            "type": "string",
            "enum": [
             "assistant"
            ]
           },
           "name": {
            "type": "string"
           },
           "audio": {
            "anyOf": [
             {
              "type": "object",
              "required": [
               "id"
              ],
              "properties": {
               "id": {
                "type": "string"
               }
              }
             },
             {
              "type": "null"
             }
            ]
           },
           "tool_calls": {
            "type": "array",
            "items": {
             "oneOf": [
              {
               "type": "object",
               "properties": {
                "id": {
                 "type": "string"
                },
                "type": {
                 "type": "string",
                 "enum": [
                  "function"
                 ]
                },
                "function": {
                 "type": "object",
                 "properties": {
                  "name": {
                   "type": "string"
                  },
                  "arguments": {
                   "type": "string"
                  }
                 },
                 "required": [
                  "name",
                  "arguments"
                 ]
                }
               },
               "required": [
                "id",
                "type",
                "function"
               ]
              },
              {
               "type": "object",
               "properties": {
                "id": {
                 "type": "string"
                },
                "type": {
                 "type": "string",
                 "enum": [
                  "custom"
                 ]
                },
                "custom": {
                 "type": "object",
                 "properties": {
                  "name": {
                   "type": "string"
                  },
                  "input": {
                   "type": "string"
                  }
                 },
                 "required": [
                  "name",
                  "input"
                 ]
                }
               },
               "required": [
                "id",
                "type",
                "custom"
               ]
              }
             ]
            }
           },
           "function_call": {
            "anyOf": [
             {
              "type": "object",
              "properties": {
               "arguments": {
                "type": "string"
               },
               "name": {
                "type": "string"
               }
              },
              "required": [
               "arguments",
               "name"
              ]
             },
             {
              "type": "null"
             }
            ]
           }
          },
          "required": [
           "role"
          ]
         },
         {
          "type": "object",
          "properties": {
           "role": {
            "type": "string",
            "enum": [
             "tool"
            ]
           },
           "content": {
            "oneOf": [
             {
              "type": "string"
             },
             {
              "type": "array",
              "items": {
               "oneOf": [
                {
                 "type": "object",
                 "properties": {
                  "type": {
                   "type": "string",
                   "enum": [
                    "text"
                   ]
                  },
                  "text": {
                   "type": "string"
                  },
                  "prompt_cache_breakpoint": {
                   "properties": {
                    "mode": {
                     "type": "string",
                     "enum": [
                      "explicit"
                     ]
                    }
                   },
                   "type": "object",
                   "required": [
                    "mode"
                   ]
                  }
                 },
                 "required": [
                  "type",
                  "text"
                 ]
                }
               ]
              },
              "minItems": 1
             }
            ]
           },
           "tool_call_id": {
            "type": "string"
           }
          },
          "required": [
           "role",
           "content",
           "tool_call_id"
          ]
         },
         {
          "type": "object",
          "properties": {
           "role": {
            "type": "string",
            "enum": [
             "function"
            ]
           },
           "content": {
            "anyOf": [
             {
              "type": "string"
             },
             {
              "type": "null"
             }
            ]
           },
           "name": {
            "type": "string"
           }
          },
          "required": [
           "role",
           "content",
           "name"
          ]
         }
        ]
       }
      },
      "model": {
       "anyOf": [
        {
         "type": "string"
        },
        {
         "type": "string",
         "enum": [
          "gpt-5.6-sol",
          "gpt-5.6-terra",
          "gpt-5.6-luna",
          "gpt-5.5",
          "gpt-5.5-2026-04-23",
          "gpt-5.4",
          "gpt-5.4-mini",
          "gpt-5.4-nano",
          "gpt-5.4-mini-2026-03-17",
          "gpt-5.4-nano-2026-03-17",
          "gpt-5.3-chat-latest",
          "gpt-5.2",
          "gpt-5.2-2025-12-11",
          "gpt-5.2-chat-latest",
          "gpt-5.2-pro",
          "gpt-5.2-pro-2025-12-11",
          "gpt-5.1",
          "gpt-5.1-2025-11-13",
          "gpt-5.1-codex",
          "gpt-5.1-mini",
          "gpt-5.1-chat-latest",
          "gpt-5",
          "gpt-5-mini",
          "gpt-5-nano",
          "gpt-5-2025-08-07",
          "gpt-5-mini-2025-08-07",
          "gpt-5-nano-2025-08-07",
          "gpt-5-chat-latest",
          "gpt-4.1",
          "gpt-4.1-mini",
          "gpt-4.1-nano",
          "gpt-4.1-2025-04-14",
          "gpt-4.1-mini-2025-04-14",
          "gpt-4.1-nano-2025-04-14",
          "o4-mini",
          "o4-mini-2025-04-16",
          "o3",
          "o3-2025-04-16",
          "o3-mini",
          "o3-mini-2025-01-31",
          "o1",
          "o1-2024-12-17",
          "o1-preview",
          "o1-preview-2024-09-12",
          "o1-mini",
          "o1-mini-2024-09-12",
          "gpt-4o",
          "gpt-4o-2024-11-20",
          "gpt-4o-2024-08-06",
          "gpt-4o-2024-05-13",
          "gpt-4o-audio-preview",
          "gpt-4o-audio-preview-2024-10-01",
          "gpt-4o-audio-preview-2024-12-17",
          "gpt-4o-audio-preview-2025-06-03",
          "gpt-4o-mini-audio-preview",
          "gpt-4o-mini-audio-preview-2024-12-17",
          "gpt-4o-search-preview",
          "gpt-4o-mini-search-preview",
          "gpt-4o-search-preview-2025-03-11",
          "gpt-4o-mini-search-preview-2025-03-11",
          "chatgpt-4o-latest",
          "codex-mini-latest",
          "gpt-4o-mini",
          "gpt-4o-mini-2024-07-18",
          "gpt-4-turbo",
          "gpt-4-turbo-2024-04-09",
          "gpt-4-0125-preview",
          "gpt-4-turbo-preview",
          "gpt-4-1106-preview",
          "gpt-4-vision-preview",
          "gpt-4",
          "gpt-4-0314",
          "gpt-4-0613",
          "gpt-4-32k",
          "gpt-4-32k-0314",
          "gpt-4-32k-0613",
          "gpt-3.5-turbo",
          "gpt-3.5-turbo-16k",
          "gpt-3.5-turbo-0301",
          "gpt-3.5-turbo-0613",
          "gpt-3.5-turbo-1106",
          "gpt-3.5-turbo-0125",
          "gpt-3.5-turbo-16k-0613"
         ]
        }
       ]
      },
      "service_tier": {
       "anyOf": [
        {
         "type": "string",
         "enum": [
          "auto",
          "default",
          "flex",
          "scale",
          "priority",
          "fast"
         ]
        },
        {
         "type": "null"
        }
       ]
      },
      "modalities": {
       "anyOf": [
        {
         "type": "array",
         "items": {
          "type": "string",
          "enum": [
           "text",
           "audio"
          ]
         }
        },
        {
         "type": "null"
        }
       ]
      },
      "verbosity": {
       "anyOf": [
        {
         "type": "string",
         "enum": [
          "low",
          "medium",
          "high"
         ]
        },
        {
         "type": "null"
        }
       ]
      },
      "reasoning_effort": {
       "anyOf": [
        {
         "type": "string",
         "enum": [
          "none",
          "minimal",
          "low",
          "medium",
          "high",
          "xhigh",
          "max"
         ]
        },
        {
         "type": "null"
        }
       ]
      },
      "max_completion_tokens": {
       "type": [
        "integer",
        "null"
       ]
      },
      "frequency_penalty": {
       "type": [
        "number",
        "null"
       ],
       "minimum": -2,
       "maximum": 2
      },
      "presence_penalty": {
       "type": [
        "number",
        "null"
       ],
       "minimum": -2,
       "maximum": 2
      },
      "web_search_options": {
       "type": "object",
       "properties": {
        "user_location": {
         "type": [
          "object",
          "null"
         ],
         "required": [
          "type",
          "approximate"
         ],
         "properties": {
          "type": {
           "type": "string",
           "enum": [
            "approximate"
           ]
          },
          "approximate": {
           "type": "object",
           "properties": {
            "country": {
             "type": "string"
            },
            "region": {
             "type": "string"
            },
            "city": {
             "type": "string"
            },
            "timezone": {
             "type": "string"
            }
           }
          }
         }
        },
        "search_context_size": {
         "type": "string",
         "enum": [
          "low",
          "medium",
          "high"
         ]
        }
       }
      },
      "top_logprobs": {
       "type": [
        "integer",
        "null"
       ],
       "minimum": 0,
       "maximum": 20
      },
      "response_format": {
       "oneOf": [
        {
         "type": "object",
         "properties": {
          "type": {
           "type": "string",
           "enum": [
            "text"
           ]
          }
         },
         "required": [
          "type"
         ]
        },
        {
         "type": "object",
         "properties": {
          "type": {
           "type": "string",
           "enum": [
            "json_schema"
           ]
          },
          "json_schema": {
           "type": "object",
           "properties": {
            "description": {
             "type": "string"
            },
            "name": {
             "type": "string"
            },
            "schema": {
             "type": "object",
             "additionalProperties": true
            },
            "strict": {
             "anyOf": [
              {
               "type": "boolean"
              },
              {
               "type": "null"
              }
             ]
            }
           },
           "required": [
            "name"
           ]
          }
         },
         "required": [
          "type",
          "json_schema"
         ]
        },
        {
         "type": "object",
         "properties": {
          "type": {
           "type": "string",
           "enum": [
            "json_object"
           ]
          }
         },
         "required": [
          "type"
         ]
        }
       ]
      },
      "audio": {
       "type": [
        "object",
        "null"
       ],
       "required": [
        "voice",
        "format"
       ],
       "properties": {
        "voice": {
         "anyOf": [
          {
           "anyOf": [
            {
             "type": "string"
            },
            {
             "type": "string",
             "enum": [
              "alloy",
              "ash",
              "ballad",
              "coral",
              "echo",
              "sage",
              "shimmer",
              "verse",
              "marin",
              "cedar"
             ]
            }
           ]
          },
          {
           "type": "object",
           "additionalProperties": false,
           "required": [
            "id"
           ],
           "properties": {
            "id": {
             "type": "string"
            }
           }
          }
         ]
        },
        "format": {
         "type": "string",
         "enum": [
          "wav",
          "aac",
          "mp3",
          "flac",
          "opus",
          "pcm16"
         ]
        }
       }
      },
      "store": {
       "type": [
        "boolean",
        "null"
       ]
      },
      "moderation": {
       "anyOf": [
        {
         "properties": {
          "model": {
           "type": "string"
          },
          "policy": {
           "anyOf": [
            {
             "properties": {
              "input": {
               "anyOf": [
                {
                 "properties": {
                  "mode": {
                   "type": "string",
                   "enum": [
                    "score",
                    "block"
                   ]
                  }
                 },
                 "type": "object",
                 "required": [
                  "mode"
                 ]
                },
                {
                 "type": "null"
                }
               ]
              },
              "output": {
               "anyOf": [
                {
                 "properties": {
                  "mode": {
                   "type": "string",
                   "enum": [
                    "score",
                    "block"
                   ]
                  }
                 },
                 "type": "object",
                 "required": [
                  "mode"
                 ]
                },
                {
                 "type": "null"
                }
               ]
              }
             },
             "type": "object",
             "required": []
            },
            {
             "type": "null"
            }
           ]
          }
         },
         "type": "object",
         "required": [
          "model"
         ]
        },
        {
         "type": "null"
        }
       ]
      },
      "stream": {
       "type": [
        "boolean",
        "null"
       ]
      },
      "stop": {
       "anyOf": [
        {
         "oneOf": [
          {
           "type": [
            "string",
            "null"
           ]
          },
          {
           "type": "array",
           "minItems": 1,
           "maxItems": 4,
           "items": {
            "type": "string"
           }
          }
         ]
        },
        {
         "type": "null"
        }
       ]
      },
      "logit_bias": {
       "type": [
        "object",
        "null"
       ],
       "additionalProperties": {
        "type": "integer"
       }
      },
      "logprobs": {
       "type": [
        "boolean",
        "null"
       ]
      },
      "max_tokens": {
       "type": [
        "integer",
        "null"
       ]
      },
      "n": {
       "type": [
        "integer",
        "null"
       ],
       "minimum": 1,
       "maximum": 128
      },
      "prediction": {
       "anyOf": [
        {
         "oneOf": [
          {
           "type": "object",
           "required": [
            "type",
            "content"
           ],
           "properties": {
            "type": {
             "type": "string",
             "enum": [
              "content"
             ]
            },
            "content": {
             "oneOf": [
              {
               "type": "string"
              },
              {
               "type": "array",
               "items": {
                "type": "object",
                "properties": {
                 "type": {
                  "type": "string",
                  "enum": [
                   "text"
                  ]
                 },
                 "text": {
                  "type": "string"
                 },
                 "prompt_cache_breakpoint": {
                  "properties": {
                   "mode": {
                    "type": "string",
                    "enum": [
                     "explicit"
                    ]
                   }
                  },
                  "type": "object",
                  "required": [
                   "mode"
                  ]
                 }
                },
                "required": [
                 "type",
                 "text"
                ]
               },
               "minItems": 1
              }
             ]
            }
           }
          }
         ]
        },
        {
         "type": "null"
        }
       ]
      },
      "seed": {
       "type": [
        "integer",
        "null"
       ],
       "minimum": -9223372036854776000,
       "maximum": 9223372036854776000
      },
      "stream_options": {
       "anyOf": [
        {
         "type": "object",
         "properties": {
          "include_usage": {
           "type": "boolean"
          },
          "include_obfuscation": {
           "type": "boolean"
          }
         }
        },
        {
         "type": "null"
        }
       ]
      },
      "tools": {
       "type": "array",
       "items": {
        "oneOf": [
         {
          "type": "object",
          "properties": {
           "type": {
            "type": "string",
            "enum": [
             "function"
            ]
           },
           "function": {
            "type": "object",
            "properties": {
             "description": {
              "type": "string"
             },
             "name": {
              "type": "string"
             },
             "parameters": {
              "type": "object",
              "additionalProperties": true
             },
             "strict": {
              "anyOf": [
               {
                "type": "boolean"
               },
               {
                "type": "null"
               }
              ]
             }
            },
            "required": [
             "name"
            ]
           }
          },
          "required": [
           "type",
           "function"
          ]
         },
         {
          "type": "object",
          "properties": {
           "type": {
            "type": "string",
            "enum": [
             "custom"
            ]
           },
           "custom": {
            "type": "object",
            "properties": {
             "name": {
              "type": "string"
             },
             "description": {
              "type": "string"
             },
             "format": {
              "oneOf": [
               {
                "type": "object",
                "properties": {
                 "type": {
                  "type": "string",
                  "enum": [
                   "text"
                  ]
                 }
                },
                "required": [
                 "type"
                ],
                "additionalProperties": false
               },
               {
                "type": "object",
                "properties": {
                 "type": {
                  "type": "string",
                  "enum": [
                   "grammar"
                  ]
                 },
                 "grammar": {
                  "type": "object",
                  "properties": {
                   "definition": {
                    "type": "string"
                   },
                   "syntax": {
                    "type": "string",
                    "enum": [
                     "lark",
                     "regex"
                    ]
                   }
                  },
                  "required": [
                   "definition",
                   "syntax"
                  ]
                 }
                },
                "required": [
                 "type",
                 "grammar"
                ],
                "additionalProperties": false
               }
              ]
             }
            },
            "required": [
             "name"
            ]
           }
          },
          "required": [
           "type",
           "custom"
          ]
         }
        ]
       }
      },
      "tool_choice": {
       "oneOf": [
        {
         "type": "string",
         "enum": [
          "none",
          "auto",
          "required"
         ]
        },
        {
         "type": "object",
         "properties": {
          "type": {
           "type": "string",
           "enum": [
            "allowed_tools"
           ]
          },
          "allowed_tools": {
           "type": "object",
           "properties": {
            "mode": {
             "type": "string",
             "enum": [
              "auto",
              "required"
             ]
            },
            "tools": {
             "type": "array",
             "items": {
              "type": "object",
              "additionalProperties": true
             }
            }
           },
           "required": [
            "mode",
            "tools"
           ]
          }
         },
         "required": [
          "type",
          "allowed_tools"
         ]
        },
        {
         "type": "object",
         "properties": {
          "type": {
           "type": "string",
           "enum": [
            "function"
           ]
          },
          "function": {
           "type": "object",
           "properties": {
            "name": {
             "type": "string"
            }
           },
           "required": [
            "name"
           ]
          }
         },
         "required": [
          "type",
          "function"
         ]
        },
        {
         "type": "object",
         "properties": {
          "type": {
           "type": "string",
           "enum": [
            "custom"
           ]
          },
          "custom": {
           "type": "object",
           "properties": {
            "name": {
             "type": "string"
            }
           },
           "required": [
            "name"
           ]
          }
         },
         "required": [
          "type",
          "custom"
         ]
        }
       ]
      },
      "parallel_tool_calls": {
       "type": "boolean"
      },
      "function_call": {
       "oneOf": [
        {
         "type": "string",
         "enum": [
          "none",
          "auto"
         ]
        },
        {
         "type": "object",
         "properties": {
          "name": {
           "type": "string"
          }
         },
         "required": [
          "name"
         ]
        }
       ]
      },
      "functions": {
       "type": "array",
       "minItems": 1,
       "maxItems": 128,
       "items": {
        "type": "object",
        "properties": {
         "description": {
          "type": "string"
         },
         "name": {
          "type": "string"
         },
         "parameters": {
          "type": "object",
          "additionalProperties": true
         }
        },
        "required": [
         "name"
        ]
       }
      }
     },
     "required": [
      "model",
      "messages"
     ]
    }
   ]
  },
  "CreateCompletionRequest": {
   "type": "object",
   "properties": {
    "model": {
     "anyOf": [
      {
       "type": "string"
      },
      {
       "type": "string",
       "enum": [
        "gpt-3.5-turbo-instruct",
        "davinci-002",
        "babbage-002"
       ]
      }
     ]
    },
    "prompt": {
     "anyOf": [
      {
       "oneOf": [
        {
         "type": "string"
        },
        {
         "type": "array",
         "items": {
          "type": "string"
         }
        },
        {
         "type": "array",
         "minItems": 1,
         "items": {
          "type": "integer"
         }
        },
        {
         "type": "array",
         "minItems": 1,
         "items": {
          "type": "array",
          "minItems": 1,
          "items": {
           "type": "integer"
          }
         }
        }
       ]
      },
      {
       "type": "null"
      }
     ]
    },
    "best_of": {
     "type": [
      "integer",
      "null"
     ],
     "minimum": 0,
     "maximum": 20
    },
    "echo": {
     "type": [
      "boolean",
      "null"
     ]
    },
    "frequency_penalty": {
     "type": [
      "number",
      "null"
     ],
     "minimum": -2,
     "maximum": 2
    },
    "logit_bias": {
     "type": [
      "object",
      "null"
     ],
     "additionalProperties": {
      "type": "integer"
     }
    },
    "logprobs": {
     "type": [
      "integer",
      "null"
     ],
     "minimum": 0,
     "maximum": 5
    },
    "max_tokens": {
     "type": [
      "integer",
      "null"
     ],
     "minimum": 0
    },
    "n": {
     "type": [
      "integer",
      "null"
     ],
     "minimum": 1,
     "maximum": 128
    },
    "presence_penalty": {
     "type": [
      "number",
      "null"
     ],
     "minimum": -2,
     "maximum": 2
    },
    "seed": {
     "type": [
      "integer",
      "null"
     ],
     "format": "int64"
    },
    "stop": {
     "anyOf": [
      {
       "oneOf": [
        {
         "type": [
          "string",
          "null"
         ]
        },
        {
         "type": "array",
         "minItems": 1,
         "maxItems": 4,
         "items": {
          "type": "string"
         }
        }
       ]
      },
      {
       "type": "null"
      }
     ]
    },
    "stream": {
     "type": [
      "boolean",
      "null"
     ]
    },
    "stream_options": {
     "anyOf": [
      {
       "type": "object",
       "properties": {
        "include_usage": {
         "type": "boolean"
        },
        "include_obfuscation": {
         "type": "boolean"
        }
       }
      },
      {
       "type": "null"
      }
     ]
    },
    "suffix": {
     "type": [
      "string",
      "null"
     ]
    },
    "temperature": {
     "type": [
      "number",
      "null"
     ],
     "minimum": 0,
     "maximum": 2
    },
    "top_p": {
     "type": [
      "number",
      "null"
     ],
     "minimum": 0,
     "maximum": 1
    },
    "user": {
     "type": "string"
    }
   },
   "required": [
    "model",
    "prompt"
   ]
  },
  "CreateEmbeddingRequest": {
   "type": "object",
   "additionalProperties": false,
   "properties": {
    "input": {
     "oneOf": [
      {
       "type": "string"
      },
      {
       "type": "array",
       "minItems": 1,
       "maxItems": 2048,
       "items": {
        "type": "string"
       }
      },
      {
       "type": "array",
       "minItems": 1,
       "maxItems": 2048,
       "items": {
        "type": "integer"
       }
      },
      {
       "type": "array",
       "minItems": 1,
       "maxItems": 2048,
       "items": {
        "type": "array",
        "minItems": 1,
        "items": {
         "type": "integer"
        }
       }
      }
     ]
    },
    "model": {
     "anyOf": [
      {
       "type": "string"
      },
      {
       "type": "string",
       "enum": [
        "text-embedding-ada-002",
        "text-embedding-3-small",
        "text-embedding-3-large"
       ]
      }
     ]
    },
    "encoding_format": {
     "type": "string",
     "enum": [
      "float",
      "base64"
     ]
    },
    "dimensions": {
     "type": "integer",
     "minimum": 1
    },
    "user": {
     "type": "string"
    }
   },
   "required": [
    "model",
    "input"
   ]
  }
 }
} as const;
